"""Money's exactness: ISO 4217 minor units, so no amount is finer than its currency allows.

The wire contract checks this at the edge for amounts that carry their currency; the domain
checks it for amounts whose currency is their invoice's (a write-off, a disputed part) and
computes tolerances in minor units. The table is ISO 4217's (kept equal to the contract's copy
in `schemas.currencies` by a test): every active code not listed has two decimals.
"""

from __future__ import annotations

from decimal import Decimal

_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}


# Every active ISO 4217 code (the contract accepts only these; value tiers cover them all).
ISO_CURRENCIES: frozenset[str] = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR
    IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB
    PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
    SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS
    VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL
    """.split()  # noqa: SIM905 (one block reads better than 180 lines)
)


def minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit (USD 2, JPY 0, KWD 3)."""
    return _MINOR_UNITS.get(currency, 2)


def minor_unit(currency: str) -> Decimal:
    """The currency's smallest amount (USD 0.01, JPY 1, KWD 0.001)."""
    return Decimal(1).scaleb(-minor_units(currency))


def fits(amount: Decimal, currency: str) -> bool:
    """True when `amount` is a whole number of the currency's minor units."""
    return amount == amount.quantize(minor_unit(currency))
