"""The clerk's counter: intake, pickup, returns, the on-hand list and labels (thin views)."""
