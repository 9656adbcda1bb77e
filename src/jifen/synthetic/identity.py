"""Synthetic identity numbers, phone numbers and names for tests, demos and benchmarks.

Everything here is drawn from a caller-supplied ``random.Random`` so that a seed reproduces a
population. Identity numbers are formally valid (GB 11643 check digit) but random: the region
codes below only look like county codes of the provinces Tongxiang's new citizens mostly come
from, and the sequence digits are random, so any match with a real person's number is chance.
Names are a common surname plus common given-name characters, never a specific person.
Never use these generators for anything but synthetic data: ``random.Random`` is not a
security RNG, and that is intended here.
"""

from __future__ import annotations

import datetime as dt
import random

from jifen.identity import PROVINCE_CODES, Sex, check_digit

__all__ = ["generate_identity_number", "generate_name", "generate_phone"]

# Province prefix -> (relative weight, prefecture codes, county codes). Weights roughly follow
# where Jiaxing's migrant workers come from; the prefecture/county pairs are synthetic but
# shaped like GB/T 2260 codes (districts 0x, counties 2x, county-level cities 8x).
ORIGINS: dict[str, tuple[float, tuple[int, ...], tuple[int, ...]]] = {
    "34": (20, (1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 15, 16, 17, 18), (2, 3, 21, 22, 23, 81)),
    "41": (15, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17), (2, 21, 22, 23, 81)),
    "52": (12, (1, 2, 3, 4, 5, 22, 23, 26, 27), (2, 3, 21, 22, 23, 24, 81)),
    "51": (12, (1, 3, 5, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17, 19, 20), (2, 21, 22, 23, 81)),
    "36": (10, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (2, 21, 22, 23, 24, 81)),
    "43": (8, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 31), (2, 21, 22, 23, 24, 81)),
    "33": (10, (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), (2, 3, 21, 22, 24, 81, 82, 83)),
    "50": (5, (1,), (1, 2, 3, 10, 11, 12, 13, 28, 29, 30, 31)),
    "42": (4, (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 28), (2, 21, 22, 23, 81)),
    "53": (4, (1, 3, 4, 5, 6, 7, 8, 9, 23, 25, 26, 28, 29), (2, 21, 22, 23, 24, 81)),
}
_PROVINCES = tuple(ORIGINS)
_PROVINCE_WEIGHTS = tuple(weight for weight, _, _ in ORIGINS.values())

# 3-digit mobile prefixes in use in mainland China (segments 13x, 15x, 17x, 18x, 19x).
PHONE_PREFIXES = (
    *(f"13{d}" for d in range(10)),
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "170", "171", "172", "173", "175", "176", "177", "178",
    *(f"18{d}" for d in range(10)),
    "191", "193", "195", "196", "197", "198", "199",
)  # fmt: skip

# Common surnames, listed roughly by frequency so that rng.choices with falling weights gives a
# plausible distribution.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_WEIGHTS = tuple(1 / (rank + 10) for rank in range(len(SURNAMES)))
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳文博志建国海东兵峰"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪琳莉萍红梅丹倩洁颖慧佳欣悦琴云兰凤秀英玉晶月"
GIVEN_ANY = "子晨一嘉思雨俊宇佳明天晓春秋新安小建立"


def generate_identity_number(
    rng: random.Random,
    birth_date: dt.date,
    sex: str | None = None,
    region: str | None = None,
) -> str:
    """A synthetic, formally valid 18-character identity number.

    ``sex`` is ``"male"``/``"female"`` (random when None) and sets the parity of the 17th digit;
    ``region`` is a 6-digit division code (a plausible migrant origin when None).
    """
    if birth_date.year < 1900:
        raise ValueError("birth_date must be in or after 1900")
    if region is None:
        region = _origin(rng)
    elif not (len(region) == 6 and region.isascii() and region.isdigit()):
        raise ValueError("region must be 6 ASCII digits")
    elif int(region[:2]) not in PROVINCE_CODES:
        raise ValueError("region must start with a valid province code")
    wanted = Sex(sex) if sex is not None else rng.choice((Sex.MALE, Sex.FEMALE))
    # Sequence code 001-999; its last digit's parity encodes sex (odd = male).
    last = rng.choice((1, 3, 5, 7, 9) if wanted is Sex.MALE else (0, 2, 4, 6, 8))
    sequence = (rng.randrange(100) * 10 + last) or 2  # 000 is never issued
    first17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_digit(first17)


def _origin(rng: random.Random) -> str:
    province = rng.choices(_PROVINCES, _PROVINCE_WEIGHTS)[0]
    _, prefectures, counties = ORIGINS[province]
    return f"{province}{rng.choice(prefectures):02d}{rng.choice(counties):02d}"


def generate_phone(rng: random.Random) -> str:
    """A synthetic 11-digit mainland mobile number (13x/15x/17x/18x/19x)."""
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def generate_name(rng: random.Random, sex: str | None = None) -> str:
    """A synthetic Chinese name: a common surname and one or two given-name characters."""
    wanted = Sex(sex) if sex is not None else rng.choice((Sex.MALE, Sex.FEMALE))
    pool = (GIVEN_MALE if wanted is Sex.MALE else GIVEN_FEMALE) + GIVEN_ANY
    surname = rng.choices(SURNAMES, _SURNAME_WEIGHTS)[0]
    given_length = 1 if rng.random() < 0.3 else 2
    return surname + "".join(rng.choice(pool) for _ in range(given_length))
