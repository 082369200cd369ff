"""Deterministic Chinese names, phones and resident ID numbers for generated data."""
from __future__ import annotations

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
