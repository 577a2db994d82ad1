"""Why the broker could not be reached at start-up, in terms of the settings to check.

aiokafka's bootstrap reports any failure as "Unable to bootstrap" and keeps the cause in its log;
a wrong CA, client certificate or SASL password will not mend by retrying, so start-up connects
once more, directly, to name the setting at fault.
"""

from __future__ import annotations

import ssl

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError, SaslAuthenticationFailed, UnsupportedSaslMechanismError

from processor.core.kafka_security import kafka_client_options
from processor.core.settings import Settings

_SASL = "ARPULSE_KAFKA_SASL_USERNAME, ARPULSE_KAFKA_SASL_PASSWORD and ARPULSE_KAFKA_SASL_MECHANISM"


async def diagnose(settings: Settings, timeout_s: float = 10.0) -> str | None:
    """What the first broker's answer says about the security settings; None if nothing."""
    options = kafka_client_options(settings)
    host, _, port = settings.kafka_broker.split(",")[0].rpartition(":")
    try:
        conn = await create_conn(
            host,
            int(port),
            request_timeout_ms=int(timeout_s * 1000),
            ssl_context=options.get("ssl_context"),
            security_protocol=options["security_protocol"],
            sasl_mechanism=options.get("sasl_mechanism"),
            sasl_plain_username=options.get("sasl_plain_username"),
            sasl_plain_password=options.get("sasl_plain_password"),
        )
    except SaslAuthenticationFailed as exc:
        return f"the broker refused the SASL credentials ({exc}): check {_SASL}"
    except UnsupportedSaslMechanismError as exc:
        return f"ARPULSE_KAFKA_SASL_MECHANISM: {exc}"
    except ssl.SSLCertVerificationError as exc:
        return (
            f"the broker's certificate does not verify ({exc.verify_message}): check"
            " ARPULSE_KAFKA_TLS_CA_FILE (the CA that signed it) and that ARPULSE_KAFKA_BROKER"
            " names the host the certificate is for"
        )
    except ssl.SSLError as exc:
        return (
            f"TLS with the broker failed ({exc.reason or exc}): check"
            " ARPULSE_KAFKA_SECURITY_PROTOCOL (the listener may not speak TLS) and"
            " ARPULSE_KAFKA_TLS_CERT_FILE/ARPULSE_KAFKA_TLS_KEY_FILE (it may ask for a client"
            " certificate)"
        )
    except (KafkaError, OSError, TimeoutError):
        return None
    conn.close()
    return None
