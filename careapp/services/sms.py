"""Text messages through the outbox, in the provider's template model.

A mainland SMS provider sends only templates it has approved: a message is a template code
plus the values of its ``${name}`` parameters. ``TEMPLATES`` keeps the text each template was
registered with, so that the console backend prints what the phone shows and every message
is known to fit one SMS (70 characters with the sign name). No template carries a child's name.
"""

import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app

from careapp import clock
from careapp.extensions import db
from careapp.models import Channel, OutboxMessage
from careapp.services.mail import DeliveryError

#: One mainland SMS, sign name included; longer texts are split and charged twice.
MAX_LENGTH = 70
#: An institution's name is shortened to no less than this to fit a message.
MIN_NAME_LENGTH = 6


@dataclass(frozen=True)
class Template:
    """A template as registered with the provider; ``key`` names it in the outbox."""

    key: str
    text: str

    @property
    def config_key(self) -> str:
        """The setting that holds the provider's code for this template."""
        return "SMS_TEMPLATE_" + self.key.upper()

    @property
    def params(self) -> tuple[str, ...]:
        """The names of its parameters."""
        return tuple(name for _, name, _, _ in string.Formatter().parse(self._format) if name)

    @property
    def _format(self) -> str:
        return self.text.replace("${", "{")

    def render(self, params: dict[str, str], sign_name: str) -> str:
        """The text the phone shows."""
        return f"【{sign_name}】" + self._format.format(**params)


TEMPLATES = {
    template.key: template
    for template in (
        Template("sign_in_code", "验证码${code}，5分钟内有效。如非本人操作，请忽略本短信。"),
        Template(
            "booking_confirmed", "您预约的${institution}${date} ${start}-${end}托育名额已确认。"
        ),
        Template(
            "application_received", "${institution}已收到您${date}起的入托申请，结果将另行通知。"
        ),
        Template(
            "offer", "${institution}${date}有名额为您保留至${deadline}，请登录“我的预约”确认。"
        ),
        Template("accepted", "${institution}已接受您${date}起的入托申请，详情请登录查看。"),
        Template("declined", "${institution}未能接受您${date}起的入托申请，原因请登录查看。"),
        Template("cancelled", "${institution}已取消您${date}的托育安排，原因请登录查看。"),
        Template(
            "deregistered", "${institution}已注销备案，您${date}的托育安排已取消，详情请登录查看。"
        ),
        Template(
            "revoked", "${institution}已被撤销备案，您${date}的托育安排已取消，详情请登录查看。"
        ),
        Template("reminder", "提醒：您明天${date} ${start}-${end}在${institution}有托育安排。"),
        Template("new_application", "您的机构收到${date}的新托育${kind}，请登录查看并处理。"),
        Template("family_invitation", "您的家人邀请您代为办理托育预约，请用本手机号登录确认。"),
        Template("family_answered", "您邀请的家庭成员已${answer}邀请，详情请登录查看。"),
    )
}


def short_date(day: date) -> str:
    """``12月1日``: how an SMS writes a date."""
    return f"{day.month}月{day.day}日"


def short_moment(moment: datetime) -> str:
    """``12月1日18:00`` in the site's time zone."""
    local = clock.to_local(moment)
    return f"{short_date(local.date())}{local:%H:%M}"


def sign_name() -> str:
    """The sign name the provider puts before every message."""
    return current_app.config["SMS_SIGN_NAME"]


def fit(template: Template, params: dict[str, str]) -> dict[str, str]:
    """``params`` with the institution's name shortened so the message is one SMS;
    raises ValueError when it cannot fit (a template too long for its parameters)."""
    params = {name: str(params[name]) for name in template.params}
    excess = len(template.render(params, sign_name())) - MAX_LENGTH
    name = params.get("institution", "")
    if excess > 0 and len(name) - excess - 1 >= MIN_NAME_LENGTH:
        params["institution"] = name[: len(name) - excess - 1] + "…"
        excess = 0
    if excess > 0:
        raise ValueError(f"SMS template {template.key} does not fit in {MAX_LENGTH} characters")
    return params


def queue_sms(phone: str, template_key: str, **params) -> OutboxMessage:
    """Add an SMS to the outbox in the current transaction."""
    template = TEMPLATES[template_key]
    message = OutboxMessage(
        channel=Channel.SMS,
        recipient=phone,
        subject=template.key,
        body=json.dumps(fit(template, params), ensure_ascii=False, sort_keys=True),
    )
    db.session.add(message)
    return message


def params_of(message: OutboxMessage) -> dict[str, str]:
    """The template parameters of an SMS in the outbox."""
    return json.loads(message.body)


def rendered(message: OutboxMessage) -> str:
    """The text the phone shows for an SMS in the outbox."""
    return TEMPLATES[message.subject].render(params_of(message), sign_name())


def masked(phone: str) -> str:
    """``+8613912345678`` → ``139****5678``, for screens and logs."""
    national = national_number(phone)
    return national[:3] + "****" + national[-4:]


def national_number(phone: str) -> str:
    """The 11 digits of an E.164 mainland mobile number."""
    return phone.removeprefix("+86")


class SmsError(DeliveryError):
    """The provider did not accept a message; it is tried again by a later run."""


def send_console(message: OutboxMessage) -> None:
    """Development backend: print the text (codes included). Outside development only the
    masked number and the template are printed."""
    if current_app.config["CAREAPP_ENV"] == "development":
        print(f"SMS To: {message.recipient}\n{rendered(message)}", flush=True)
    else:
        print(f"(not sent) SMS To: {masked(message.recipient)} {message.subject}", flush=True)


def _aliyun_client():
    """A Dysms client for the configured account and endpoint."""
    from alibabacloud_dysmsapi20170525.client import Client
    from alibabacloud_tea_openapi.models import Config

    config = current_app.config
    return Client(
        Config(
            access_key_id=config["ALIYUN_SMS_ACCESS_KEY_ID"],
            access_key_secret=config["ALIYUN_SMS_ACCESS_KEY_SECRET"],
            endpoint=config["ALIYUN_SMS_ENDPOINT"],
            protocol=config["ALIYUN_SMS_PROTOCOL"],
            region_id="cn-hangzhou",
            connect_timeout=5000,
            read_timeout=10000,
        )
    )


def send_aliyun(message: OutboxMessage) -> None:
    """Production backend: Alibaba Cloud SMS (``SendSms``) through its official SDK."""
    from alibabacloud_dysmsapi20170525.models import SendSmsRequest

    template = TEMPLATES[message.subject]
    code = current_app.config.get(template.config_key)
    if not code:
        raise SmsError(f"{template.config_key} is not set")
    request = SendSmsRequest(
        phone_numbers=national_number(message.recipient),
        sign_name=sign_name(),
        template_code=code,
        template_param=message.body,
        out_id=str(message.id),
    )
    try:
        response = _aliyun_client().send_sms(request)
    except Exception as error:  # the SDK raises its own classes for network and HTTP errors
        raise SmsError(f"{type(error).__name__}: {error}") from error
    body = response.body
    if body is None or body.code != "OK":
        raise SmsError(f"{getattr(body, 'code', None)}: {getattr(body, 'message', None)}")


BACKENDS: dict[str, Callable[[OutboxMessage], None]] = {
    "console": send_console,
    "aliyun": send_aliyun,
}
