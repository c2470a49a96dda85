"""Server-rendered pages for people: sign-in, status, errors."""
