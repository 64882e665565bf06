"""
One module per twistd command: each exposes Options and makeService.
"""
