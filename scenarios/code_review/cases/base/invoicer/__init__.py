"""invoicer: a small invoicing service used as the code-review scenario's repository."""
