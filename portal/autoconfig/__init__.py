"""Automatic setup for mail programs: the answers (Thunderbird autoconfig, Outlook
Autodiscover, Apple profiles), their views, and the DNS check of mail domains."""
