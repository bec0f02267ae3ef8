"""jianjian — 件件有着落: every parcel accounted for."""

__version__ = "0.1.0"
