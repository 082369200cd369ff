"""Deterministic Chinese names, phones and resident ID numbers for generated data."""
from __future__ import annotations

import itertools
import random

from app.services.personal_data import resident_id_check_char

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华红梅玉兰志强海燕春梅晓东立新德明淑珍凤英文杰丽娟俊峰雪梅永强欣怡子涵浩然思远嘉怡宇航雨桐"
PREFIXES = ("139", "138", "137", "136", "135", "150", "151", "152", "158", "159", "186", "187", "188", "177", "199")


class NameMaker:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.used_phones: set[str] = set()

    def name(self) -> str:
        given = self.rng.choice(GIVEN)
        if self.rng.random() < 0.6:
            given += self.rng.choice(GIVEN)
        return self.rng.choice(SURNAMES) + given

    def phone(self) -> str:
        while True:
            phone = self.rng.choice(PREFIXES) + "".join(str(self.rng.randrange(10)) for _ in range(8))
            if phone not in self.used_phones:
                self.used_phones.add(phone)
                return phone

    def resident_id(self, region: str = "410611") -> str:
        year = self.rng.randrange(1955, 2004)
        month = self.rng.randrange(1, 13)
        day = self.rng.randrange(1, 29)
        first17 = f"{region}{year:04d}{month:02d}{day:02d}{self.rng.randrange(1000):03d}"
        return first17 + resident_id_check_char(first17)


# --- residents (一户一档): names by gender and generation, surnames by how common they are ---------
# The hundred commonest surnames, roughly in order; their weights fall off as the real shares do
# (王, 李, 张 about 7% each, the hundredth about 0.1%).
COMMON_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
                   "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
                   "郝龚邵万钱严覃武戴莫孔向汤常单")
SURNAME_WEIGHTS = tuple(7.0 / (1 + i * 0.18) ** 1.25 for i in range(len(COMMON_SURNAMES)))
SURNAME_CUMULATIVE = tuple(itertools.accumulate(SURNAME_WEIGHTS))
# given names (one or two characters) of people born before 1965, 1965–1989, and since 1990
MALE_GIVEN = (
    "建国 建军 国庆 德明 志强 卫东 振华 长林 富贵 保国 金山 玉林 文斌 永福 宝山 树林 广才 明 军 强 刚 勇 华 忠",
    "伟 磊 军 勇 涛 斌 超 鹏 杰 强 志刚 海涛 建华 晓东 立新 文杰 俊峰 永强 红军 志勇 国栋 亮 波 辉",
    "浩然 子轩 宇航 梓涵 一鸣 俊杰 博文 皓轩 思远 子墨 浩宇 天佑 明轩 宇轩 铭泽 嘉豪 睿 轩 浩 宇 泽 晨 阳 杰",
)
FEMALE_GIVEN = (
    "秀英 桂英 秀兰 玉兰 桂兰 淑珍 凤英 玉梅 秀珍 凤兰 素芳 兰英 玉珍 翠花 金凤 淑英 秀云 桂芳 英 兰 珍 芳 霞 梅",
    "丽 艳 静 敏 燕 娟 霞 芳 红梅 丽娟 海燕 春梅 雪梅 丽华 晓燕 美玲 红霞 文静 秀梅 玉霞 丹 琳 颖 莉",
    "欣怡 子涵 雨桐 梓萱 诗涵 可馨 佳怡 语嫣 思琪 雨欣 一诺 紫涵 梦瑶 嘉怡 心怡 若曦 悦 琪 彤 萱 涵 妍 婷 雪",
)
MALE_GIVEN = tuple(tuple(era.split()) for era in MALE_GIVEN)
FEMALE_GIVEN = tuple(tuple(era.split()) for era in FEMALE_GIVEN)


def resident_name(rng: random.Random, male: bool, birth_year: int, surname: str | None = None) -> str:
    """A name a person of this gender born in this year might carry; ``surname`` to share a family's."""
    era = 0 if birth_year < 1965 else 1 if birth_year < 1990 else 2
    given = rng.choice((MALE_GIVEN if male else FEMALE_GIVEN)[era])
    if surname is None:
        surname = rng.choices(COMMON_SURNAMES, cum_weights=SURNAME_CUMULATIVE)[0]
    return surname + given


def surname_of(rng: random.Random) -> str:
    return rng.choices(COMMON_SURNAMES, cum_weights=SURNAME_CUMULATIVE)[0]
