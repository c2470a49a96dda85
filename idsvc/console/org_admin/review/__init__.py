"""The org admin's access review page."""
