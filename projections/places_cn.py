"""China's provincial-level divisions and major cities in both scripts, for trait normalisation
(``projections.trait_values``): 上海, 上海市, Shanghai, shanghai shi and Shanghai City are one city.

The canonical form is the short name in simplified Chinese characters, without the
administrative suffix (上海, 广东, 内蒙古): what Chinese customers type most, and one form per
place whichever script was sent. Each entry is (canonical, pinyin, other names); the suffixed
forms (上海市, 广东省, "shanghai shi", "guangdong province", ...) are made from it. Data, not
read from a file, so the projections stay free of I/O (docs/architecture.md §1).
"""

Place = tuple[str, str, tuple[str, ...]]

# 34 provincial-level divisions: 23 provinces, 4 municipalities, 5 autonomous regions, 2 SARs.
PROVINCES: tuple[Place, ...] = (
    ("北京", "Beijing", ("Peking",)),
    ("天津", "Tianjin", ("Tientsin",)),
    ("上海", "Shanghai", ()),
    ("重庆", "Chongqing", ("Chungking",)),
    ("河北", "Hebei", ()),
    ("山西", "Shanxi", ()),
    ("辽宁", "Liaoning", ()),
    ("吉林", "Jilin", ()),
    ("黑龙江", "Heilongjiang", ()),
    ("江苏", "Jiangsu", ()),
    ("浙江", "Zhejiang", ()),
    ("安徽", "Anhui", ()),
    ("福建", "Fujian", ()),
    ("江西", "Jiangxi", ()),
    ("山东", "Shandong", ()),
    ("河南", "Henan", ()),
    ("湖北", "Hubei", ()),
    ("湖南", "Hunan", ()),
    ("广东", "Guangdong", ("Canton",)),
    ("海南", "Hainan", ()),
    ("四川", "Sichuan", ("Szechuan",)),
    ("贵州", "Guizhou", ()),
    ("云南", "Yunnan", ()),
    ("陕西", "Shaanxi", ()),
    ("甘肃", "Gansu", ()),
    ("青海", "Qinghai", ()),
    ("台湾", "Taiwan", ("台灣",)),
    ("内蒙古", "Nei Mongol", ("Inner Mongolia", "内蒙古自治区")),
    ("广西", "Guangxi", ("广西壮族自治区",)),
    ("西藏", "Xizang", ("Tibet", "西藏自治区")),
    ("宁夏", "Ningxia", ("宁夏回族自治区",)),
    ("新疆", "Xinjiang", ("新疆维吾尔自治区",)),
    ("香港", "Hong Kong", ("Xianggang", "HK", "香港特别行政区", "Hong Kong SAR")),
    ("澳门", "Macau", ("Macao", "Aomen", "澳門", "澳门特别行政区", "Macau SAR")),
)

# The municipalities, the provincial capitals and the other large cities customers name.
CITIES: tuple[Place, ...] = (
    ("北京", "Beijing", ("Peking",)),
    ("上海", "Shanghai", ()),
    ("天津", "Tianjin", ("Tientsin",)),
    ("重庆", "Chongqing", ("Chungking",)),
    ("广州", "Guangzhou", ("Canton",)),
    ("深圳", "Shenzhen", ()),
    ("杭州", "Hangzhou", ()),
    ("南京", "Nanjing", ("Nanking",)),
    ("苏州", "Suzhou", ()),
    ("无锡", "Wuxi", ()),
    ("宁波", "Ningbo", ()),
    ("成都", "Chengdu", ()),
    ("武汉", "Wuhan", ()),
    ("西安", "Xi'an", ("Xian",)),
    ("长沙", "Changsha", ()),
    ("郑州", "Zhengzhou", ()),
    ("青岛", "Qingdao", ("Tsingtao",)),
    ("济南", "Jinan", ()),
    ("大连", "Dalian", ()),
    ("沈阳", "Shenyang", ()),
    ("哈尔滨", "Harbin", ("Haerbin",)),
    ("长春", "Changchun", ()),
    ("石家庄", "Shijiazhuang", ()),
    ("太原", "Taiyuan", ()),
    ("合肥", "Hefei", ()),
    ("福州", "Fuzhou", ()),
    ("厦门", "Xiamen", ("Amoy",)),
    ("南昌", "Nanchang", ()),
    ("昆明", "Kunming", ()),
    ("贵阳", "Guiyang", ()),
    ("南宁", "Nanning", ()),
    ("海口", "Haikou", ()),
    ("三亚", "Sanya", ()),
    ("兰州", "Lanzhou", ()),
    ("西宁", "Xining", ()),
    ("银川", "Yinchuan", ()),
    ("乌鲁木齐", "Urumqi", ("Wulumuqi",)),
    ("拉萨", "Lhasa", ()),
    ("呼和浩特", "Hohhot", ()),
    ("东莞", "Dongguan", ()),
    ("佛山", "Foshan", ()),
    ("珠海", "Zhuhai", ()),
    ("温州", "Wenzhou", ()),
    ("香港", "Hong Kong", ("HK",)),
    ("澳门", "Macau", ("Macao", "澳門")),
    ("台北", "Taipei", ("台北市",)),
)

MUNICIPALITIES = frozenset({"北京", "天津", "上海", "重庆"})
_SUFFIXES = {  # the administrative suffixes a place's name is sent with, in either script
    "province": (("省",), ("sheng", "province")),
    "city": (("市",), ("shi", "city")),
}


def synonyms(places: tuple[Place, ...], kind: str) -> dict[str, list[str]]:
    """Canonical name → every name sent for it: pinyin, other names, and each with the suffixes of ``kind``."""
    chinese_suffixes, latin_suffixes = _SUFFIXES[kind]
    found: dict[str, list[str]] = {}
    for canonical, pinyin, others in places:
        names = [pinyin, *others, *(canonical + s for s in chinese_suffixes)]
        names += [f"{pinyin} {s}" for s in latin_suffixes] + [f"{pinyin}{s}" for s in latin_suffixes]
        if kind == "province" and canonical in MUNICIPALITIES:  # sent with 市 even as a province
            names += [canonical + "市", f"{pinyin} shi", f"{pinyin} municipality"]
        found[canonical] = names
    return found
