"""Importing children from a spreadsheet: the template, the upload, the rows, the job."""
