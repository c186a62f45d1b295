"""The Campaigns page: the list with its pause, resume and kill switch, and the five-step wizard."""
