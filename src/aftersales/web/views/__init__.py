"""Web views, split by area: the console, the phone-call form, the portal and file downloads."""
