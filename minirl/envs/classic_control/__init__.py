"""Classic control environments with Gymnasium's exact dynamics; each registers itself here."""
