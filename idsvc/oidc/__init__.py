"""Sign-in through upstream OpenID Connect providers, and mapping their claims."""
