"""Sign-up, sign-in, the account page and professional verification."""
