"""Fixed data of the demo company 澜泉卫浴 (LanQuan Sanitary Ware): places, products, people, texts."""

from __future__ import annotations

from dataclasses import dataclass

BRAND = "澜泉卫浴"
BRAND_EN = "LanQuan Sanitary Ware"
DEMO_PASSWORD = "demo-Passw0rd"  # noqa: S105 - the documented password of the demo logins
DEMO_DOMAIN = "demo.aftersales.cn"


@dataclass(frozen=True)
class City:
    code: str
    name: str
    name_en: str
    latitude: float
    longitude: float
    weight: int  # share of customers
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Province:
    code: str
    name: str
    name_en: str
    cities: tuple[City, ...]
    # A municipality (上海, 北京 …) is a province-level city: customers sit on the province node.
    municipality: City | None = None


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    name_en: str
    provinces: tuple[Province, ...]


def _municipality(
    code: str, name: str, name_en: str, lat: float, lng: float, weight: int, districts: str
) -> Province:
    city = City(code, name, name_en, lat, lng, weight, tuple(districts.split()))
    return Province(code, name, name_en, (), municipality=city)


AREAS: tuple[Area, ...] = (
    Area(
        "east-china",
        "华东",
        "East China",
        (
            _municipality(
                "shanghai",
                "上海",
                "Shanghai",
                31.2304,
                121.4737,
                14,
                "浦东新区 徐汇区 闵行区 静安区 长宁区 宝山区",
            ),
            Province(
                "zhejiang",
                "浙江",
                "Zhejiang",
                (
                    City(
                        "hangzhou",
                        "杭州",
                        "Hangzhou",
                        30.2741,
                        120.1551,
                        8,
                        ("西湖区", "滨江区", "余杭区", "拱墅区"),
                    ),
                    City("ningbo", "宁波", "Ningbo", 29.8683, 121.5440, 3, ("鄞州区", "海曙区", "江北区")),
                ),
            ),
            Province(
                "jiangsu",
                "江苏",
                "Jiangsu",
                (
                    City(
                        "nanjing",
                        "南京",
                        "Nanjing",
                        32.0603,
                        118.7969,
                        6,
                        ("鼓楼区", "建邺区", "江宁区", "玄武区"),
                    ),
                    City("suzhou", "苏州", "Suzhou", 31.2990, 120.5853, 6, ("姑苏区", "工业园区", "吴中区")),
                ),
            ),
        ),
    ),
    Area(
        "north-china",
        "华北",
        "North China",
        (
            _municipality(
                "beijing",
                "北京",
                "Beijing",
                39.9042,
                116.4074,
                12,
                "朝阳区 海淀区 丰台区 东城区 通州区 昌平区",
            ),
            _municipality(
                "tianjin", "天津", "Tianjin", 39.3434, 117.3616, 5, "和平区 南开区 河西区 滨海新区"
            ),
            Province(
                "hebei",
                "河北",
                "Hebei",
                (
                    City(
                        "shijiazhuang",
                        "石家庄",
                        "Shijiazhuang",
                        38.0428,
                        114.5149,
                        3,
                        ("长安区", "桥西区", "裕华区"),
                    ),
                ),
            ),
        ),
    ),
    Area(
        "south-china",
        "华南",
        "South China",
        (
            Province(
                "guangdong",
                "广东",
                "Guangdong",
                (
                    City(
                        "guangzhou",
                        "广州",
                        "Guangzhou",
                        23.1291,
                        113.2644,
                        9,
                        ("天河区", "越秀区", "海珠区", "番禺区"),
                    ),
                    City(
                        "shenzhen",
                        "深圳",
                        "Shenzhen",
                        22.5431,
                        114.0579,
                        9,
                        ("南山区", "福田区", "宝安区", "龙岗区"),
                    ),
                ),
            ),
            Province(
                "fujian",
                "福建",
                "Fujian",
                (City("xiamen", "厦门", "Xiamen", 24.4798, 118.0894, 3, ("思明区", "湖里区", "集美区")),),
            ),
        ),
    ),
    Area(
        "southwest-china",
        "西南",
        "South-West China",
        (
            Province(
                "sichuan",
                "四川",
                "Sichuan",
                (
                    City(
                        "chengdu",
                        "成都",
                        "Chengdu",
                        30.5728,
                        104.0668,
                        7,
                        ("锦江区", "武侯区", "高新区", "青羊区"),
                    ),
                ),
            ),
            _municipality(
                "chongqing", "重庆", "Chongqing", 29.5630, 106.5516, 6, "渝中区 江北区 南岸区 渝北区"
            ),
            Province(
                "yunnan",
                "云南",
                "Yunnan",
                (City("kunming", "昆明", "Kunming", 25.0389, 102.7183, 3, ("五华区", "盘龙区", "官渡区")),),
            ),
        ),
    ),
    Area(
        "northwest-china",
        "西北",
        "North-West China",
        (
            Province(
                "shaanxi",
                "陕西",
                "Shaanxi",
                (
                    City(
                        "xian",
                        "西安",
                        "Xi'an",
                        34.3416,
                        108.9398,
                        5,
                        ("雁塔区", "碑林区", "未央区", "长安区"),
                    ),
                ),
            ),
            Province(
                "gansu",
                "甘肃",
                "Gansu",
                (City("lanzhou", "兰州", "Lanzhou", 36.0611, 103.8343, 2, ("城关区", "七里河区", "安宁区")),),
            ),
        ),
    ),
    Area(
        "central-china",
        "华中",
        "Central China",
        (
            Province(
                "hubei",
                "湖北",
                "Hubei",
                (
                    City(
                        "wuhan",
                        "武汉",
                        "Wuhan",
                        30.5928,
                        114.3055,
                        6,
                        ("武昌区", "江汉区", "洪山区", "汉阳区"),
                    ),
                ),
            ),
            Province(
                "hunan",
                "湖南",
                "Hunan",
                (City("changsha", "长沙", "Changsha", 28.2282, 112.9388, 4, ("岳麓区", "芙蓉区", "雨花区")),),
            ),
            Province(
                "henan",
                "河南",
                "Henan",
                (
                    City(
                        "zhengzhou",
                        "郑州",
                        "Zhengzhou",
                        34.7466,
                        113.6254,
                        4,
                        ("金水区", "二七区", "郑东新区"),
                    ),
                ),
            ),
        ),
    ),
)


def all_cities() -> list[tuple[Area, City]]:
    """Every place a customer can live, with its area, in catalogue order."""
    found: list[tuple[Area, City]] = []
    for area in AREAS:
        for province in area.provinces:
            if province.municipality is not None:
                found.append((area, province.municipality))
            found.extend((area, city) for city in province.cities)
    return found


STREETS = (
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "黄河路",
    "新华路",
    "文化路",
    "青年路",
    "世纪大道",
    "科技园路",
    "滨江大道",
    "南京路",
    "学府路",
    "春晓路",
)
COMMUNITIES = (
    "阳光花园",
    "锦绣家园",
    "翠湖苑",
    "金色华庭",
    "万科城",
    "碧桂园",
    "保利花园",
    "中海国际",
    "绿城桂花园",
    "融创壹号院",
    "龙湖春江郦城",
    "华润橡树湾",
    "招商雍景湾",
    "世茂滨江花园",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文斌晓红玉兰海燕子涵浩然梓轩欣怡"
    "思远雨桐俊杰佳怡宇航嘉欣博文晨曦一鸣心怡天佑若曦子墨"
)

COMPANY_WORDS = (
    "锦江",
    "华府",
    "恒信",
    "宏达",
    "世纪",
    "金鼎",
    "嘉和",
    "瑞丰",
    "盛世",
    "隆基",
    "君悦",
    "汇景",
    "明珠",
    "东方",
    "新城",
    "兴业",
    "远洋",
    "天成",
)
COMPANY_KINDS = (
    "酒店管理有限公司",
    "物业服务有限公司",
    "装饰工程有限公司",
    "房地产开发有限公司",
    "健身管理有限公司",
    "餐饮管理有限公司",
    "养老服务中心",
    "连锁酒店",
)


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    name_en: str
    category: str
    warranty_months: int
    weight: int
    short: str  # how a customer names it: 智能马桶, 热水器 …


PRODUCTS: tuple[Product, ...] = (
    Product(
        "LQ-ZT-S7", "智能马桶 S7 一体机", "Smart toilet S7 all-in-one", "smart_toilet", 36, 12, "智能马桶"
    ),
    Product(
        "LQ-ZT-X5", "智能马桶 X5 即热式", "Smart toilet X5 instant-heating", "smart_toilet", 36, 9, "智能马桶"
    ),
    Product("LQ-ZG-G3", "智能马桶盖 G3", "Smart toilet seat G3", "smart_toilet", 24, 6, "智能马桶盖"),
    Product("LQ-FT-210", "分体马桶 210", "Two-piece toilet 210", "toilet", 60, 8, "马桶"),
    Product("LQ-LT-330", "连体马桶 330", "One-piece toilet 330", "toilet", 60, 8, "马桶"),
    Product("LQ-TP-501", "台上盆 501", "Countertop basin 501", "basin", 60, 6, "台盆"),
    Product("LQ-TP-602", "柱盆 602", "Pedestal basin 602", "basin", 60, 3, "台盆"),
    Product("LQ-SL-101", "面盆龙头 101", "Basin faucet 101", "faucet", 36, 9, "龙头"),
    Product("LQ-SL-205", "厨房抽拉龙头 205", "Pull-out kitchen faucet 205", "faucet", 36, 6, "厨房龙头"),
    Product("LQ-HS-880", "恒温花洒套装 880", "Thermostatic shower set 880", "shower", 36, 8, "花洒"),
    Product("LQ-HS-660", "淋浴花洒 660", "Shower set 660", "shower", 36, 5, "花洒"),
    Product("LQ-YG-1700", "亚克力浴缸 1.7 米", "Acrylic bathtub 1.7 m", "bathtub", 36, 3, "浴缸"),
    Product("LQ-YG-M15", "按摩浴缸 M15", "Massage bathtub M15", "bathtub", 24, 2, "按摩浴缸"),
    Product("LQ-RS-60D", "电热水器 60 升", "Electric water heater 60 L", "water_heater", 36, 7, "电热水器"),
    Product("LQ-RS-16Q", "燃气热水器 16 升", "Gas water heater 16 L", "water_heater", 36, 5, "燃气热水器"),
    Product("LQ-YS-80", "浴室柜 80 厘米", "Bathroom cabinet 80 cm", "cabinet", 24, 5, "浴室柜"),
    Product("LQ-YS-100J", "浴室镜柜套装 100", "Mirror cabinet set 100", "cabinet", 24, 3, "镜柜"),
)

# Faults customers report, per category: (symptom, cause found, fix, whether it leaks water).
FAULTS: dict[str, tuple[tuple[str, str, str, bool], ...]] = {
    "smart_toilet": (
        ("冲水无力", "冲水电磁阀堵塞", "清洗并更换电磁阀", False),
        ("坐圈不加热", "坐圈加热丝断路", "更换坐圈加热组件", False),
        ("喷头不出水", "喷头过滤网水垢堵塞", "清洗喷头并更换滤网", False),
        ("遥控器失灵", "遥控器与主机配对丢失", "重新配对并更换遥控器电池", False),
        ("底座漏水", "法兰密封圈老化", "更换法兰密封圈并重新打胶", True),
        ("自动翻盖不工作", "翻盖电机齿轮磨损", "更换翻盖电机", False),
        ("水温忽冷忽热", "即热模块温控传感器故障", "更换温控传感器", False),
        ("显示故障码 E3", "进水压力不足触发保护", "调整进水角阀并清洗进水滤网", False),
        ("除臭功能不工作", "除臭风机积尘", "清洁风机并更换除臭滤芯", False),
    ),
    "toilet": (
        ("底座漏水", "法兰密封圈老化", "更换法兰密封圈并重新打胶", True),
        ("冲水无力", "排水阀止水垫变形", "更换排水阀组件", False),
        ("水箱不停流水", "进水阀浮球卡滞", "更换进水阀", True),
        ("马桶堵塞", "排污管异物堵塞", "疏通排污管", False),
        ("按钮失灵", "按钮连杆断裂", "更换按钮组件", False),
        ("盖板松动", "盖板固定螺丝松脱", "紧固并更换缓降盖板螺丝", False),
    ),
    "basin": (
        ("下水慢", "下水器毛发堵塞", "清理下水器并更换防臭芯", False),
        ("台盆下方漏水", "下水管接口密封不良", "重新安装下水管并密封", True),
        ("盆体出现裂纹", "安装时受力不均", "更换盆体", True),
        ("溢水孔返味", "溢水通道缺少水封", "加装防臭密封", False),
    ),
    "faucet": (
        ("龙头滴水", "陶瓷阀芯磨损", "更换陶瓷阀芯", True),
        ("出水很小", "起泡器水垢堵塞", "清洗起泡器", False),
        ("冷热水混乱", "冷热进水管接反", "调换进水管", False),
        ("抽拉软管漏水", "抽拉软管接头破损", "更换抽拉软管", True),
        ("把手松动", "把手固定螺丝松脱", "紧固把手并加装垫片", False),
    ),
    "shower": (
        ("花洒出水不均", "出水孔水垢堵塞", "清洗花洒出水面板", False),
        ("恒温阀失灵，水温过烫", "恒温阀芯失效", "更换恒温阀芯", False),
        ("软管接头漏水", "软管密封垫老化", "更换花洒软管", True),
        ("升降杆松动", "升降座卡扣断裂", "更换升降座", False),
    ),
    "bathtub": (
        ("浴缸排水慢", "排水器堵塞", "疏通并更换排水器", False),
        ("按摩泵不工作", "按摩泵电容损坏", "更换按摩泵电容", False),
        ("缸体边缘渗水", "缸边密封胶开裂", "重新打玻璃胶", True),
    ),
    "water_heater": (
        ("加热不工作", "加热管烧坏", "更换加热管", False),
        ("漏电保护频繁跳闸", "加热管绝缘下降", "更换加热管并检测接地", False),
        ("热水不热", "温控器故障", "更换温控器", False),
        ("显示故障码 E1", "温度传感器开路", "更换温度传感器", False),
        ("点不着火", "点火针积碳", "清洁点火针并更换电池", False),
        ("内胆漏水", "内胆焊缝腐蚀", "更换整机", True),
    ),
    "cabinet": (
        ("柜门变形", "柜体受潮", "更换柜门", False),
        ("铰链损坏", "铰链缓冲器失效", "更换阻尼铰链", False),
        ("镜前灯不亮", "灯具驱动电源损坏", "更换驱动电源", False),
        ("台面开裂", "台面安装应力", "更换台面", False),
    ),
}

SINCE = (
    "昨天开始出现",
    "已经持续三天",
    "今天早上发现",
    "最近一周时好时坏",
    "使用一年多后出现",
    "搬家后开始出现",
)
EXTRAS = (
    "客户希望周末上门。",
    "家中有老人，请尽快处理。",
    "已自行断电重启，无效。",
    "客户已拍照上传。",
    "客户上班时间不方便接电话，请微信联系。",
    "同一小区另有一户反映类似问题。",
    "",
)

# (subject, description, answer[, the product categories it applies to; all when absent])
CONSULTATIONS = (
    (
        "{short}的保修期怎么算？",
        "客户询问{model}的保修期，购买于{purchased}，想确认是否仍在保修期内。",
        "您的{model}自购买日起保修{warranty}个月，目前{warranty_state}。",
    ),
    (
        "如何调节{short}的水温",
        "客户不清楚{model}水温如何设置，说明书找不到了。",
        "已发送水温调节步骤：长按温度键三秒进入设置，按上下键调节。",
        ("smart_toilet", "water_heater", "shower"),  # only products that heat water
    ),
    (
        "{short}配件购买咨询",
        "客户想购买{model}的原厂配件，询问价格和发货时间。",
        "已报价并发送官方商城购买链接，现货两天内发出。",
    ),
    (
        "发票和保修卡遗失怎么办",
        "客户的发票和保修卡遗失，询问能否正常保修。",
        "可凭购买订单截图或产品序列号登记保修，无需纸质保修卡。",
    ),
    (
        "{short}清洁保养方法",
        "客户询问{model}的日常清洁方法，担心清洁剂损伤表面。",
        "建议使用中性清洁剂和软布，避免钢丝球和强酸强碱。",
    ),
)
COMPLAINTS = (
    ("维修师傅迟到两小时", "客户投诉约定上午十点上门，师傅十二点才到，也没有提前电话通知。"),
    ("维修后问题再次出现", "上次维修后不到一周{short}又出现同样问题，客户非常不满。"),
    ("客服热线长时间无人接听", "客户连续两天拨打 400 热线，排队超过二十分钟无人接听。"),
    ("上门费用有异议", "客户认为产品仍在保修期内，不应收取上门费。"),
    ("安装后地面没有清理", "安装完成后现场遗留包装和灰尘，客户要求道歉。"),
)
INSTALLATIONS = (
    ("新房{short}安装预约", "客户新购{model}，已到货，预约上门安装。{floor}"),
    ("{short}安装预约", "客户购买{model}，需要拆除旧{short}后安装新品。{floor}"),
    ("工程批量安装：{short}", "项目共{count}套{model}，需分批安装并验收。"),
)
MAINTENANCES = (
    ("{short}年度保养", "客户购买了年度保养服务，预约对{model}做全面检查和清洁。"),
    ("{short}滤芯更换", "{model}滤芯到期提醒，客户预约上门更换。"),
    ("{short}除垢保养", "当地水质偏硬，客户预约对{model}除垢。"),
)
RETURNS = (
    ("{short}到货破损，申请换货", "客户收货时发现{model}外包装和产品有破损，要求换新。"),
    ("{short}型号不符，申请退货", "客户收到的型号与订单不一致，订单为{model}。"),
    ("七天无理由退货：{short}", "客户未拆封，申请七天无理由退货。"),
    ("{short}质量问题申请换新", "{model}三个月内同一故障维修两次，客户申请换新。"),
)
UPGRADES = (
    ("{short}固件升级", "客户的{model}提示有新固件，希望升级以获得新功能。"),
    ("{short}连接 App 失败", "客户无法将{model}绑定到澜泉 App，需要升级固件后重新配网。"),
    ("旧款{short}升级为新款", "客户参加以旧换新活动，希望把{model}升级为新款。"),
)

FLOORS = ("客户住 18 楼，电梯可用。", "老小区 6 楼无电梯。", "需要师傅自带打胶工具。", "")
TAGS = ("漏水", "VIP客户", "二次上门", "安装质量", "批量工程", "配件待发", "加急")

# Staff of the service organisation: (login, name, role, team code or "", title).
TEAMS = (
    ("customer-service", "客户服务部", "Customer service", "customer_service"),
    ("technical-support", "技术支持部", "Technical support", "technical_support"),
    ("repair-service", "维修服务部", "Repair service", "repair_service"),
    ("spare-parts", "备件管理部", "Spare parts", "spare_parts"),
    ("customer-relations", "客户关系部", "Customer relations", "customer_relations"),
)
