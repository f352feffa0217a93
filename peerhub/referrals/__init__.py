"""Consented, closed-loop referrals from professionals into groups."""
