"""What every panel shares: the app context, background lanes, the live feed, operations,
translations, labels and the theme."""
