"""The four sparks-intake services and the runtime they share."""
