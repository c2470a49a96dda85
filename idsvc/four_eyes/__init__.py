"""Four eyes: compliance decisions one operator proposes and another approves."""
