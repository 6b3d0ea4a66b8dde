"""HTTP client for the payment provider."""

import os

import requests

API_BASE = "https://api.payments.example/v2"
TIMEOUT_S = 10


class PaymentClient:
    def __init__(self, api_key=None, session=None):
        self.api_key = api_key or os.environ["PAYMENTS_API_KEY"]
        self.session = session or requests.Session()

    def _headers(self):
        return {"Authorization": f"Bearer {self.api_key}"}

    def get_payment(self, payment_id):
        response = self.session.get(
            f"{API_BASE}/payments/{payment_id}", headers=self._headers(), timeout=TIMEOUT_S
        )
        response.raise_for_status()
        return response.json()

    def refund(self, payment_id, amount_pence):
        response = self.session.post(
            f"{API_BASE}/payments/{payment_id}/refunds",
            json={"amount": amount_pence},
            headers=self._headers(),
            timeout=TIMEOUT_S,
        )
        response.raise_for_status()
        return response.json()
