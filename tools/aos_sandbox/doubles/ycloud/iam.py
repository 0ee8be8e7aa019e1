"""IAM of the Yandex double: exchanges service-account JWTs for IAM tokens and checks them.

The SDK signs a PS256 JWT with the authorized key and calls IamTokenService.Create; every other
call then carries `authorization: Bearer <token>`.  The JWT signature is verified against the
public keys registered here (the pre-created sandbox key), as Yandex IAM does.
"""

from __future__ import annotations

import datetime
import secrets

import grpc
import jwt
from yandex.cloud.iam.v1 import iam_token_service_pb2, iam_token_service_pb2_grpc

from . import config
from .state import ApiError

TOKEN_LIFETIME = datetime.timedelta(hours=12)


class IamTokenService(iam_token_service_pb2_grpc.IamTokenServiceServicer):
    def __init__(self) -> None:
        self.public_keys: dict[str, tuple[str, str]] = {}  # key id -> (service account id, PEM)
        self.tokens: dict[str, str] = {config.STATIC_IAM_TOKEN: config.SERVICE_ACCOUNT_ID}

    def register_key(self, key: dict[str, str]) -> None:
        """Accept JWTs signed by this authorized key (Yandex JSON format, public_key required)."""
        self.public_keys[key["id"]] = (key["service_account_id"], key["public_key"])

    def is_valid(self, token: str) -> bool:
        return token in self.tokens

    def _issue(self, subject: str) -> iam_token_service_pb2.CreateIamTokenResponse:
        token = "t1.aos-sandbox." + secrets.token_urlsafe(32)
        self.tokens[token] = subject
        response = iam_token_service_pb2.CreateIamTokenResponse(iam_token=token)
        response.expires_at.FromDatetime(datetime.datetime.now(datetime.UTC) + TOKEN_LIFETIME)
        return response

    def _subject_of_jwt(self, token: str) -> str:
        try:
            key_id = jwt.get_unverified_header(token).get("kid", "")
        except jwt.PyJWTError as err:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid JWT: {err}") from None
        if key_id not in self.public_keys:
            raise ApiError(grpc.StatusCode.UNAUTHENTICATED, f"Key {key_id} not found")
        account_id, public_pem = self.public_keys[key_id]
        try:
            claims = jwt.decode(
                token,
                public_pem,
                algorithms=["PS256"],
                options={"verify_aud": False, "require": ["iss", "exp"]},
            )
        except jwt.PyJWTError as err:
            raise ApiError(
                grpc.StatusCode.UNAUTHENTICATED, f"JWT signature validation fails: {err}"
            ) from None
        if claims["iss"] != account_id:
            raise ApiError(
                grpc.StatusCode.UNAUTHENTICATED, f"Key {key_id} does not belong to {claims['iss']}"
            )
        if not str(claims.get("aud", "")).endswith("/iam/v1/tokens"):
            raise ApiError(
                grpc.StatusCode.UNAUTHENTICATED, "JWT audience must be the IAM tokens URL"
            )
        return account_id

    def Create(self, request, context):  # noqa: N802 - gRPC method names
        identity = request.WhichOneof("identity")
        if identity == "jwt":
            return self._issue(self._subject_of_jwt(request.jwt))
        if identity == "yandex_passport_oauth_token" and request.yandex_passport_oauth_token:
            # There are no Passport users here; any OAuth token stands for the sandbox account.
            return self._issue(config.SERVICE_ACCOUNT_ID)
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "Request validation error: identity: Field is required",
        )

    def CreateForServiceAccount(self, request, context):  # noqa: N802
        if request.service_account_id != config.SERVICE_ACCOUNT_ID:
            raise ApiError(
                grpc.StatusCode.NOT_FOUND, f"Service account {request.service_account_id} not found"
            )
        return self._issue(request.service_account_id)
