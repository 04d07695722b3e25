"""Models written the way people write them, for the import tests, and the checks they share."""
