"""The bare-framework floor: Django 5.2 + django-ninja doing a scan's minimum (look up, insert a
parcel-like row and an event row in one transaction), served by granian like jianjian. Nothing of
jianjian is imported, so ``bench/api.py`` can show how far jianjian is from what the framework
itself costs on the same machine, in the same run."""
