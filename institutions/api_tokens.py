"""API tokens for other systems and the mobile app (django-rest-knox: only a hash is stored).

`POST /api/v1/auth/token/` with the username, the password and, for a user with two-factor
authentication, the current one-time code returns a token that expires after API_TOKEN_TTL.
Failed attempts count towards the same lockout as the sign-in page (django-axes). The caller
revokes its token with `DELETE /api/v1/auth/token/`, lists and revokes its others under
`/api/v1/auth/tokens/`; the security administrator revokes anyone's in the admin site.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import match_token, user_has_device
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from core.access_log import access_record
from core.inputs import BoundedSerializerMixin
from core.models import AccessEvent
from institutions.api import IsVerifiedStaff
from institutions.models import User
from institutions.twofactor import two_factor_required


class TokenRequestSerializer(BoundedSerializerMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    otp = serializers.RegexField(
        r"^\d{6}$",
        required=False,
        help_text="The current code of the authenticator app, for users with two-factor.",
        error_messages={"invalid": gettext_lazy("Enter the 6 digits of your authenticator app.")},
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")
    token_key = serializers.CharField(help_text="The token's public prefix, to revoke it by.")
    expires_at = serializers.DateTimeField()


class TokenInfoSerializer(serializers.Serializer):
    token_key = serializers.CharField()
    created = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(source="expiry", allow_null=True)


class SignInThrottle(AnonRateThrottle):
    """Token requests per IP address, whoever they name (the lockout counts per account)."""

    scope = "token"


class TokenView(APIView):
    """Obtain a token (POST, signed out) or revoke the one in use (DELETE)."""

    permission_classes = [IsVerifiedStaff]

    def _obtaining(self) -> bool:
        request = getattr(self, "request", None)
        return request is not None and request.method == "POST"

    def get_permissions(self) -> list[Any]:
        return [AllowAny()] if self._obtaining() else list(super().get_permissions())

    def get_authenticators(self) -> list[Any]:
        # Obtaining a token needs no session, and so no CSRF token either.
        return [] if self._obtaining() else super().get_authenticators()

    def get_authenticate_header(self, request: Request) -> str:
        # A refused sign-in is 401 (with the scheme to use), not 403.
        return "Token"

    def get_throttles(self) -> list[Any]:
        return [SignInThrottle(), *super().get_throttles()]

    @extend_schema(
        tags=["auth"],
        request=TokenRequestSerializer,
        responses={
            201: TokenSerializer,
            400: OpenApiResponse(description="Missing or malformed fields."),
            401: OpenApiResponse(description="Wrong username, password or one-time code."),
            403: OpenApiResponse(description="Two-factor must be set up first, or locked out."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        given = TokenRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        django_request = request._request
        user = authenticate(django_request, username=data["username"], password=data["password"])
        # A locked-out account (django-axes) gets the lockout answer from axes' middleware.
        if user is None or not isinstance(user, User) or not user.is_active:
            raise exceptions.AuthenticationFailed(_("The username or password is wrong."))
        if user_has_device(user, confirmed=True):
            if "otp" not in data:
                raise exceptions.AuthenticationFailed(
                    _("This account uses two-factor authentication: send the one-time code as otp.")
                )
            if match_token(user, data["otp"]) is None:
                raise exceptions.AuthenticationFailed(_("The one-time code is wrong or expired."))
        elif two_factor_required(user):
            raise exceptions.PermissionDenied(
                _("Set up two-factor authentication on the sign-in page first.")
            )
        instance, token = AuthToken.objects.create(user=user, expiry=settings.API_TOKEN_TTL)
        access_record(
            user=user,
            action=AccessEvent.Action.SIGN_IN,
            request=django_request,
            detail={"api_token": instance.token_key},
        )
        body = TokenSerializer(
            {"token": token, "token_key": instance.token_key, "expires_at": instance.expiry}
        ).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=["auth"],
        request=None,
        responses={204: None, 400: OpenApiResponse(description="Not signed in with a token.")},
    )
    def delete(self, request: Request) -> Response:
        if not isinstance(request.auth, AuthToken):
            raise exceptions.ValidationError(_("This request was not made with a token."))
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenListView(APIView):
    """The caller's own tokens in force (never their secret part)."""

    permission_classes = [IsVerifiedStaff]

    @extend_schema(tags=["auth"], responses={200: TokenInfoSerializer(many=True)})
    def get(self, request: Request) -> Response:
        tokens = AuthToken.objects.filter(user=request.user).order_by("-created")[:100]
        return Response(TokenInfoSerializer(tokens, many=True).data)


class TokenDetailView(APIView):
    """Revoke one of the caller's own tokens by its public prefix."""

    permission_classes = [IsVerifiedStaff]

    @extend_schema(
        tags=["auth"],
        request=None,
        responses={204: None, 404: OpenApiResponse(description="No such token of yours.")},
    )
    def delete(self, request: Request, token_key: str) -> Response:
        deleted, _rows = AuthToken.objects.filter(user=request.user, token_key=token_key).delete()
        if not deleted:
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema's security schemes."""

    target_class = "institutions.api_auth.VerifiedTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, from POST /api/v1/auth/token/.",
        }
