"""Whether the retrieved passages can answer the question at all, beyond sharing its words.

A question asking for a kind of fact (a phone number, an amount of money, a date) is only answered by a passage
that contains that kind of fact; a question about another edition or about who will win is outside what this
edition's guideline can say. These are checks on the passages' text, not answers: a document that does give a
phone number makes phone questions answerable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class AnswerType:
    """A kind of fact a question asks for, and how to recognise it in a passage."""

    name: str
    asks: dict[str, re.Pattern[str]]
    found: re.Pattern[str]


_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(
    r"\d{1,2}\s*月|\d{1,2}\s*日|\d{4}\s*年|\d{1,2}\s*点|\d{1,2}:\d{2}|即日起|月底|月中|中旬|"
    rf"\b({_MONTHS.replace('may|', '')})\b|"
    # "may" is a month only beside a day number ("may submit several projects" is no date)
    r"\bmay\s+\d{1,2}\b|\b\d{1,2}\s+may\b",
    re.IGNORECASE,
)

ANSWER_TYPES = (
    AnswerType(
        "phone",
        # not the entrant's own number written on the form ("申报表里电话填错了")
        {"zh": re.compile(r"电话(?!填|写错|号码?填|号码?写错)|手机号(?!填|写错)|热线|座机|致电|打过去|打给|微信|客服"),
         # not "we design phone chips"; not a contact of any kind ("email/phone whatever", "we'd prefer a phone
         # number if there is one"), which the email address answers
         "en": re.compile(r"\b(?<!my )(?<!our )(?<!wrong )(?<!email/)(?<!email or )(?<!email or a )(?<!prefer a )(?<!prefer )"
                          r"((tele)?phone( number)?(?! (number )?(on|in) the form)(?!\s*(/|or)\s*e-?mail)(?!\s+(chips?|makers?|cases?|screens?|batter\w*|design\w*|brands?|apps?|"
                          r"manufactur\w*|industry|parts?|components?|recycl\w*|repair\w*|accessor\w*))|hotline|call (you|them|the)|ring (?:you|them|the|someone)|"
                          # "can we submit through wechat instead of email?" asks how to submit, which the email answers
                          r"(?<!through )(?<!via )(?<!over )(?<!by )(?<!on )(?:wechat|whatsapp))\b", re.IGNORECASE)},
        re.compile(r"(?<!\d)(\+?\d[\d\- ]{6,}\d)(?!\d)"),
    ),
    AnswerType(
        "money",
        # Not in a clause about the fee: "报名费多少钱" is answered by "不收取任何报名费用", which names no amount.
        {"zh": re.compile(r"(?:^|[，,。？?！!；;\s])(?![^，,。？?！!；;\s]*(报名费|参赛费|参评费|收费|交费|缴费|交钱|要钱|交多少|付多少|"
                          r"要交))[^，,。？?！!；;\s]*?(奖金|多少钱|几万|几千|金额|现金|奖励多少|发多少|报销|差旅费|路费|车费|住宿费)"),
         # nor in one telling the asker's own money ("we raised 500M RMB last year")
         "en": re.compile(r"(?:^|[,.?!;]\s*)(?![^,.?!;]*\b(fees?|charged?|charges|cost to (enter|apply)|pay to (enter|apply)|"
                          r"entry cost|raised|revenue|turnover|sales|valuation|funding|invested)\b)[^,.?!;]*?\b(prize money|prize (purse|pool|fund)|purse|cash|how much money|rmb|yuan|dollars?|bonus|reimburs\w*|"
                          r"travel (costs?|expenses?)|pay for (our|my) (travel|trip|flights?|hotel)|"
                          # "do finalists pay their own travel to the forum or is it covered?"
                          r"(pay|cover|covers|covered|reimburse\w*) (for )?(their|our|my|the) (own )?(travel|trip|flights?|hotel|accommodation))\b",
                          re.IGNORECASE)},
        re.compile(r"\d[\d,.]*\s*(元|万元|亿元|万|亿|块)|[¥￥$]\s*\d|\b(rmb|cny|usd|yuan)\b", re.IGNORECASE),
    ),
    AnswerType(
        "names",
        {"zh": re.compile(r"(评委|专家|评审|嘉宾|获奖者|得主)[^轮段节]{0,10}(名单|都有谁|有哪些人|是谁|名字|叫什么|哪位|哪几家|"
                          r"哪些(媒体|机构|高校|单位|公司))|具体都有谁|具体名单|是哪位|"
                          # "评委都有谁，能给个名单吗": the follow-up asks the names too
                          r"(给|发|提供|公布|公开)(我|我们)?(个|一下|一份|一个)?\S{0,4}名单|名单\S{0,3}(给|发|提供|公布|公开)|"
                          # "评委会都有哪些专家，能告诉我名字吗"
                          r"告诉(我|我们)?(一下)?\S{0,3}(名字|名单|姓名)|"
                          # a person in a role, which no text names: "评委会主席系边位" (Cantonese "who"), "澎湃的ceo是谁"
                          r"(评委|专家|评审|嘉宾|获奖者|得主)[^轮段节]{0,10}(边位|边个)|"
                          r"(主席|总裁|社长|总编|主编|老板|负责人|创始人|董事长|ceo|CEO)\S{0,3}(是谁|叫什么|哪位|边位|边个)"),
         "en": re.compile(r"\bnames? of (the |this year's |last year's )?(judges?|jury|experts?|winners?|members?|"
                          r"panel\w*|speakers?|guests?|finalists?|people|reviewers?)\b|\bwho (exactly|specifically) (is|are|sits?|will)\b(?! (behind|organi[sz]\w*|running|hosting|in charge)\b)|\bwhich (specific|exact|particular)\b|"
                          r"\b(which|what) (research )?(institutes|institutions|universities|media|outlets|companies|"
                          r"organi[sz]ations) (are|sit|serve)\b.{0,20}\b(jury|panel|judg\w*)|\bwho(?:'s|s| is)\b.{0,20}\bchair\w*|"
                          r"\bwho (chairs|heads|presides over) (the |this year's )?(jury|panel|judg\w*|review)|\bwho the (jury |panel )?(chair\w*|head|president)\b|"
                          r"\bwho(?:'s| is| are)(?: the)? "
                          r"(chair|head|president|director|members?|ceo|cto|founder|editor|editor-in-chief|boss|leader|"
                          r"manager|contact person|person in charge)\b|"
                          # "what kind of people, not names" asks the kind
                          r"\b(judges?|jury|panel|experts?|winners?|members?|speakers?|guests?)\b.{0,40}(?<!not )(?<!no )(?<!need )"
                          r"(?<!want )(?<!without )"
                          r"\bnames?\b|"
                          r"\bnames?\b.{0,30}\b(judges?|jury|panel|experts?|winners?|members?|speakers?|guests?)\b|"
                          r"\bany (\w+ )?names\b|\bnames? (you|u) can (share|give|tell)\b|"
                          # "who are the judges? can you send me the names", not the names of the awards
                          r"\b(give|send|share|tell|provide|post|drop) ((me|us) )?(all )?(the |their |some )?names\b"
                          r"(?! of (the |all )?(seven |7 )?(awards?|lists?|categor\w*|tracks?|industr\w*|fields?|groups?)\b)",
                          re.IGNORECASE)},
        re.compile(r"[\u4e00-\u9fff]{2,3}(教授|院士|博士|先生|女士)|\b(Prof|Dr|Mr|Ms|Mrs)\.? [A-Z][a-z]+"),
    ),
    AnswerType(
        "length",
        {"zh": re.compile(r"字数|多少字|几个字|多少页|几页|篇幅"),
         "en": re.compile(r"\b(word (limit|count)|how many (words|pages|characters|slides)|(page|slide) (limit|count)|max(imum)? length|"
                          r"max(imum)? (number of )?(pages|words|characters|slides)|"
                          # "max video length", "how long can the video be"
                          r"(video|clip) (length|duration)|how long (can|should|may|must) (the |our |a )?([\w-]+ )?(video|clip)s?)\b",
                          re.IGNORECASE)},
        re.compile(r"\d+\s*(字|页|分钟|秒|words?|pages?|characters?|minutes?|mins?|seconds?)", re.IGNORECASE),
    ),
    AnswerType(
        "share",
        {"zh": re.compile(r"权重|占比|占多少|比重|比例|百分之|几成|分值|多少分|几分|满分|计分|加分"),
         "en": re.compile(r"(what|which|how much) ?%|%\s*of the (score|total|marks?)|"
                          # "which award puts weight on fundraising" asks where the emphasis lies, not a share
                          r"\b(?<!puts )(?<!put )(?<!places )(?<!place )(?<!gives )(?<!give )(?<!more )(?<!most )(?<!extra )(?<!heavy )"
                          r"(weight(s|ing|ed|age)?|percent(age)?|how many points|points? out of|proportion|"
                          r"scor(e|ing) (formula|breakdown)|bonus points)\b|"
                          # "how many score need for pass the preliminary review?", "what's the passing mark?"
                          r"\bhow many (scores?|marks?)\b|\b(minimum|min|passing|pass|cut-?off|qualifying) (score|mark)s?\b|"
                          # "how much does IP count compared with financing?", "how much does each dimension weigh"
                          r"\bhow much (do|does|will|would) ([\w-]+ ){1,8}(count|weigh|matter)\b",
                          re.IGNORECASE)},
        re.compile(r"\d+(\.\d+)?\s*(%|％|分(?!钟))|百分之|\bpoints?\b", re.IGNORECASE),
    ),
    AnswerType(
        # "how many judges are on the jury?": any count is answered by a number, which a text without one cannot
        # hold however near its words are (the judges' entry names who they are, not how many). English only:
        # "要准备哪几个材料", "有几个要求" ask which, not how many (30 Chinese answers of the tuning set were lost).
        "number",
        {"zh": re.compile(r"(?!)"),
         # "what CAGR counts as 'relatively high', a number pls"
         "en": re.compile(r"\bhow many\b|\b(a|the|exact|actual|hard) (number|figure)s? (pls|please|plz)\b|\bgive (me|us) (a|the) (number|figure)\b",
                          re.IGNORECASE)},
        re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|"
                   r"twelve|once|twice|single|several|multiple|unlimited|no limit|any number)\b", re.IGNORECASE),
    ),
    AnswerType(
        "quota",
        {"zh": re.compile(r"名额|几[家个位名]?(获奖|入围|得奖)|(入围|获奖|上榜)(名单)?\S{0,6}(多少|几)[家个位名]|(入围|获奖|得奖|上榜|评出|选出|评上)(几|多少)[家个位名]|(评|选|取)(出)?(几|多少)[家个位名](?!榜|奖项|类)|多少[家个位名](能|会|可以)?(获奖|入围|上榜)|"
                          r"录取率|获奖率|通过率|中奖率|多少人报|多少[家个]报名|报名人数"),
         "en": re.compile(r"\bhow many [\w-]+ (win|make (the|it onto the|it to the) (list|cut|shortlist|final list)|get shortlisted)\b|"
                          # "max number of finalists per list? there's a cap, isn't there"
                          r"\b(max(imum)?|min(imum)?) (number of )?(winners|finalists|awardees)\b|"
                          r"\bhow many [\w-]+ (will|would|are going to) (actually |really )?(be )?(picked|chosen|selected|"
                          r"shortlisted|named|awarded)\b|"
                          r"\bhow many (winners|finalists|places|spots|seats|(entries|applicants|applications)(?!\s+([\w-]+\s+){0,3}(can|could|may|per|each|is one|are we|do we)\b)|"
                          r"companies (will|get|are)|people (will|get|are)|awards? (will|are) (given|handed))|quota|"
                          r"acceptance rate|success rate|odds\b", re.IGNORECASE)},
        re.compile(r"\d+\s*(家|个名额|名|位|席|人)|\b\d+\s+(winners|finalists|places|spots|seats|entries)\b",
                   re.IGNORECASE),
    ),
    AnswerType(
        # "一个专家最多能推荐几个": a limit on how many is answered by a number or by "no limit"
        "count",
        {"zh": re.compile(r"(最多|至多|上限|限额|限制)\S{0,8}(几|多少)[个家位名项份次人]?|(几|多少)[个家位名项份次人]?\S{0,3}(封顶|上限)"),
         "en": re.compile(r"\b(how many\b.{0,40}\b(at most|max(imum)?|limit)|(max(imum)?|limit on the|cap on the) (number|no\.?) of|"
                          r"(a |any )?(cap|limit) on how many|"
                          r"how many (entries|applications|projects|submissions) (can|could|may|per|each|is one|are we|do we)|"
                          r"up to how many)\b", re.IGNORECASE)},
        re.compile(r"[\d一二两三四五六七八九十]\s*[个家位名项份次人轮]|不[做设]?限|没有限制|无限|\b(no limit|not limited|"
                   r"unlimited|any number|several|multiple)\b|\b\d+\s+(entries|projects|awards|candidates|nominees|"
                   r"people|submissions|categories)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "行业大数据是哪家机构提供的": an organisation, which a passage names (the committee, The Paper, a company)
        "organisation",
        {"zh": re.compile(r"(哪家|哪个|什么|哪些)(机构|公司|单位|平台|第三方|企业)\S{0,6}(提供|负责|来做|做的|统计|运营|承办|合作)|"
                          r"由(哪家|哪个|什么)(机构|公司|单位)"),
         "en": re.compile(r"\b(which|what) (company|organi[sz]ation|firm|agency|institution|provider|vendor|partner)\b.{0,30}"
                          r"\b(provides?|supplies|supplied|runs?|does|did|handles?|is behind|compiles?)\b|"
                          r"\bwho (provides|supplies|compiles|collects)\b", re.IGNORECASE)},
        re.compile(r"组委会|委员会|澎湃|公司|集团|研究院|大学|研究机构|\b(the paper|committee|organi[sz]er|ltd|inc)\b",
                   re.IGNORECASE),
    ),
    AnswerType(
        "place",
        # a street address too ("drop off our samples in person", "the mailing address, to ship them a prototype"):
        # "based in Shanghai" is not one
        {"zh": re.compile(r"在哪[里儿]?(举办|举行|开|办|颁)|(举办|举行|颁奖|典礼|论坛|会议).{0,6}(地点|场地|在哪)|地点|场地|会场|停车|住宿|酒店|"
                          r"(详细|具体|办公|街道|门牌|邮寄|寄件|收件|快递|收货)地址|门牌号|几楼|哪栋"),
         "en": re.compile(r"\b(venue|location of the|where (is|will|does) the (forum|ceremony|event|award)|"
                          r"(street|physical|postal|office|exact|full|building|mailing|shipping|delivery|courier) address|"
                          # "i wanna ship them my prototype"
                          r"(ship|courier|mail) (it|them|our|my|the|a) ([\w-]+ )?(prototype|sample|device|parcel|package)s?|"
                          r"which floor|room number|"
                          r"where (exactly )?(is|will|does) (the )?([\w-]+ ){0,3}(forum|ceremony|event|gala)|"
                          r"where\b.{0,50}\b(being held|be held|take place|taking place)|"
                          r"parking|hotel|accommodation)\b", re.IGNORECASE)},
        re.compile(r"地点|会场|酒店|会议中心|[路街道]\s*\d+\s*号|\b(venue|hotel|conference cent(re|er)|hall)\b",
                   re.IGNORECASE),
    ),
    AnswerType(
        # A video's or an image's file format or resolution: the guideline asks for images and video, in no format.
        # Not the form's, which is a Word document.
        "media_format",
        {"zh": re.compile(r"(视频|图片|照片)\S{0,6}(格式|分辨率|清晰度)|\b(mp4|mov|avi|4k|1080p)\b", re.IGNORECASE),
         "en": re.compile(r"\b(videos?|images?|photos?|pictures?|pics|clips?|footage)\b.{0,25}\b(file )?(formats?|resolutions?|codecs?|file types?)\b|"
                          r"\b(formats?|resolutions?)\b.{0,25}\b(videos?|images?|photos?|pictures?|clips?|footage)\b|\b(mp4|mov|avi|4k|1080p)\b",
                          re.IGNORECASE)},
        re.compile(r"\b(mp4|mov|avi|1080p|4k|resolution|jpe?g|png)\b|分辨率", re.IGNORECASE),
    ),
    AnswerType(
        # what the trophy or certificate is made of, or its size: the guideline names them, nothing more
        "trophy_itself",
        {"zh": re.compile(r"(奖杯|证书)\S{0,6}(材质|什么做的|多大|尺寸|多重|样子|长什么样)"),
         "en": re.compile(r"\b(trophy|trophies|certificate)\b.{0,30}\b(made of|material|size|how big|how large|how heavy|dimensions?|weigh\w*|look like)\b|"
                          r"\b(made of|material|size|how big|how large|how heavy|dimensions?)\b.{0,30}\b(trophy|trophies|certificate)\b",
                          re.IGNORECASE)},
        re.compile(r"\b(made of|cm|mm|inch(es)?|kg|grams?|crystal|metal|glass)\b|材质|厘米", re.IGNORECASE),
    ),
    AnswerType(
        # The guideline holds a forum, not a prize-giving: "when is the awards ceremony?" is not the results date
        "ceremony",
        {"zh": re.compile(r"颁奖(典礼|仪式|礼|晚会)"),
         "en": re.compile(r"颁奖|\b(awards?|prize[- ]giving) ceremon(y|ies)\b|\bceremony (date|day|venue)\b|"
                          r"\b(attend|skip|miss|at|for) the ceremony\b|"
                          r"\b(is there|will there be|when is) (an? |the )?ceremony\b", re.IGNORECASE)},
        re.compile(r"ceremon|颁奖(典礼|仪式|礼|晚会)", re.IGNORECASE),
    ),
    AnswerType(
        # The STAR Market names a field the call collects; how to list on it is no rule of the call.
        "stock_listing",
        # Nor is a share price ("The Paper stock price now?").
        {"zh": re.compile(r"上市(的)?(条件|要求|规则|流程|标准|门槛|程序)|(怎么|如何|怎样)上市|股价|股票价格"),
         "en": re.compile(r"\b(listing (requirements?|rules|criteria|conditions|process|standards?)|(stock|share) prices?|"
                          r"(requirements?|rules|criteria|conditions) (for|of) (an? )?(ipo|listing)|"
                          r"how (do|can|to) (we |i )?(ipo|go public|list on))\b", re.IGNORECASE)},
        re.compile(r"上市(条件|要求|规则|标准)|\b(listing (requirements?|rules|criteria))\b", re.IGNORECASE),
    ),
    AnswerType(
        "age",
        {"zh": re.compile(r"年龄|多大年纪|年纪|[几多少]岁|岁以[上下]"),
         # not the asker's own age told ("our spin-off is only 2 years old, which award fits?"), unless as a bound
         "en": re.compile(r"\b(age (limit|requirement|cap)|how old|(?:(?:under|over|than|below|above|least|most) \d+ |"
                          r"(?<!\d )(?<!\d)" + "".join(f"(?<!{n} )" for n in (
                              "one two three four five six seven eight nine ten eleven twelve few".split())) +
                          r")years old|too old|too young|company age|"
                          r"age of the (company|firm|business))\b", re.IGNORECASE)},
        re.compile(r"\d+\s*(周)?岁|年龄|\bage(d)?\b|years old", re.IGNORECASE),
    ),
    AnswerType(
        "threshold",
        # "要成立满几年", not the asker's "成立没几年"
        {"zh": re.compile(r"(成立|注册|经营|运营).{0,4}(满|多少年|多久|年限|时间要求)|(成立|注册|经营|运营)(要|需要|得|必须)?几年|注册资本|最低|起码|至少要|"
                          r"(营收|收入|规模|利润|员工|人数|融资|增长率|增速).{0,6}(要求|达到|多少|标准|至少|最少|最低)|"
                          r"(至少|最少|最低)要?(多少|几)|(营收|收入|成立时间|年限|规模|人数|员工)\S{0,6}门槛|(成立|注册|经营).{0,4}(不超过|不到|以内|超过|满)\s*[\d一二三四五六七八九十]"),
         # "what's the minimum to qualify?" asks for the entry requirements, which hold no number
         "en": re.compile(r"\b(minimum(?! (requirements?|criteria|conditions|bar)\b(?!.{0,30}\b(revenue|turnover|"
                          r"headcount|employees|staff|patents|capital|years)\b)| (needed )?to (qualify|enter|apply|join|"
                          r"take part|be eligible)\b)|min (annual |yearly )?(revenue|turnover|headcount|size|number|age)|at least how|threshold|registered capital|how long (must|do|should) we have (been|existed|operated)|"
                          r"(revenue|turnover|headcount|funding) (requirement|threshold|minimum)|"
                          r"how many (employees|staff|people|workers|patents) (do|does|must|should|are)|how many invention patents|"
                          r"how many years\b.{0,40}\b(need|must|have to|required|operating|in business)|"
                          r"how (big|large|old) (does|must|should) (the|our|a) (company|firm|startup|team) be|"
                          # a ceiling ("is there a maximum share a state shareholder may hold for us to be eligible?")
                          r"max(imum)? (\w+ )?(share(holding)?|stake|equity|ownership|holdings?)|"
                          r"(cap|limit|ceiling) on (\w+ )?(share(holding)?s?|stakes?|equity|ownership|holdings?))\b",
                          re.IGNORECASE)},
        re.compile(r"至少|不低于|不少于|不超过|[\d一二两三四五六七八九十百千万]\s*\S{0,3}以上|满\s*\d|"
                   r"\b(at least|minimum|no less than|or more|at most|maximum|no more than)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "截止时间能延期吗": whether the deadline moves, which a date alone does not say
        "extension",
        {"zh": re.compile(r"延期|延长|推迟|宽限|顺延|晚几天|多给几天"),
         "en": re.compile(r"\b(extend(ed|s)?|extension|postpon\w*|push(ed)? back|grace period|more time)\b",
                          re.IGNORECASE)},
        re.compile(r"延期|延长|推迟|顺延|宽限|\b(extend\w*|extension|postpon\w*|grace period)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "发出去之后还能修改吗": changing an entry once sent, which a rule on how to send does not settle
        "revision",
        {"zh": re.compile(r"(提交|发出|发送|发了|交了|寄出|报了).{0,8}(之后|以后|后)?.{0,6}(修改|更改|改动|替换|重发|重新发|补交|撤回|撤销)|"
                          r"(还能|能不能|可以|可不可以)(再)?(修改|更改|撤回|撤销|补交|重新提交)|(还|能|可以|能不能)(再)?改(吗|不|么|嘛)"),
         "en": re.compile(r"\b(edit|change|update|correct|amend|modify|revise|replace|resend|withdraw)\b.{0,40}"
                          r"\b(after|already|once)\b|\b(after|already|once)\b.{0,40}\b(edit|change|update|amend|modify|"
                          r"revise|replace|resend|withdraw)\b|\bresend\b|\bcorrected version\b", re.IGNORECASE)},
        re.compile(r"修改|更改|撤回|撤销|补交|重新提交|\b(edit\w*|amend\w*|revis\w*|resubmi\w*|resend|withdraw\w*)\b",
                   re.IGNORECASE),
    ),
    AnswerType(
        # "入围了会打电话通知吗": how the committee tells entrants, which the rules on applying do not say
        "notification",
        {"zh": re.compile(r"(会|怎么|如何|是否|会不会|有没有|能不能).{0,8}(通知|告知)|电话还是短信|(短信|邮件|电话)通知|"
                          r"回执|确认邮件|自动回复"),
         "en": re.compile(r"\b(notif(y|ied|ication)|informed|confirmation (email|e-mail|receipt|message)|acknowledge?ment|"
                          r"auto-?reply)\b|\bwill (you|someone|they|anyone) (email|call|contact|tell|ring) (us|me|him|her|them)\b|"
                          r"(?<!when )\b(will|do|would) (we|i) (be told|be notified|get told|hear (anything|back|nothing))\b",
                          re.IGNORECASE)},
        re.compile(r"通知|告知|回执|\b(notif\w*|inform(ed)?|acknowledge?ment|confirmation)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "PDF instead of the Word form?": a file format the guideline never names is not settled by "download
        # the Word form" (which does answer "is the form Word or PDF?")
        "format",
        {"zh": re.compile(r"(pdf|PDF|wps|WPS)\S{0,6}(代替|替代|可以吗|行吗|行不行|可不可以)|(用|交|发|转成?)(pdf|PDF|wps|WPS)(格式)?(可以|行)|"
                          r"(可以|能|能不能|可不可以)(用|交|发|提交)(pdf|PDF|wps|WPS)"),
         "en": re.compile(r"\b(pdf|pages|google docs?|wps)\b.{0,30}\b(instead|rather than)\b|\binstead of (a |the )?(word|docx?)\b",
                          re.IGNORECASE)},
        re.compile(r"\bpdf\b|\bwps\b|google docs?", re.IGNORECASE),
    ),
    AnswerType(
        # "exact date results come out?": a day of a month, which "late October to November" is not
        "exact_date",
        {"zh": re.compile(r"具体(哪天|哪一天|日期|几号|时间)|几月几[号日]|哪一?天具体"),
         "en": re.compile(r"\b(exact|specific|precise) ([a-z]+ )?(date|day)\b|\bwhich day exactly\b|\bwhen exactly\b",
                          re.IGNORECASE)},
        re.compile(rf"\d{{1,2}}\s*月\s*\d{{1,2}}\s*[日号]|\b\d{{1,2}}(st|nd|rd|th)?\s+({_MONTHS})\b|"
                   rf"\b({_MONTHS})\s+\d{{1,2}}\b", re.IGNORECASE),
    ),
    AnswerType(
        # "if we are not shortlisted, will we hear why?": feedback on an entry, which no rule promises
        "feedback",
        {"zh": re.compile(r"反馈|落选(的)?原因|为什么没(入围|选上|评上|通过)|评语|点评意见|评审意见"),
         "en": re.compile(r"\bfeedback\b|\b(reasons?|told|hear|know|explain\w*) why\b.{0,30}\b(not|n't|rejected|failed)\b|"
                          r"\b(tell|explain to|let) (us|me)\b.{0,10}\bwhy\b|\b(tell|give) (us|me|them) the reasons?\b|"
                          r"\bjudges'? comments\b|\bscore ?sheets?\b",
                          re.IGNORECASE)},
        re.compile(r"反馈|评语|评审意见|\b(feedback|comments)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "do we pitch live to the judges?": a review format the guideline never describes
        "presentation",
        {"zh": re.compile(r"答辩|路演|现场(陈述|展示|汇报|演示)|面试"),
         "en": re.compile(r"\b(pitch(ing)? (live|in person|to the (judges|jury|panel))|live pitch|present(ing)? (live|in person|"
                          r"to the (judges|jury|panel))|(defen[cs]e|interview) (round|session|stage)|in-person (pitch|"
                          r"presentation|interview))\b", re.IGNORECASE)},
        re.compile(r"答辩|路演|\b(pitch\w*|presentations?|defen[cs]e)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "对结果有异议能申诉吗": an appeal, which no rule provides
        "appeal",
        {"zh": re.compile(r"申诉|异议|复议|复核|公示期"),
         # not a copyright complaint: a complaint about the result
         "en": re.compile(r"\b(appeal\w*|object to the (result|decision)|contest the (result|decision)|complain\w* (about|against) "
                          r"(the |our )?(result|decision|outcome|judg\w*|scor\w*|rejection))\b",
                          re.IGNORECASE)},
        re.compile(r"申诉|异议|复议|公示|\b(appeal\w*|objections?|complaints?)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "香港公司算国内还是国外？": where the language rule puts Hong Kong, Macao or Taiwan, which it never says
        "region_status",
        # Asked apart from the place too ("We are a Hong Kong company. Do we count as domestic or foreign?"): one who
        # asks which side of the rule they are on is where the text does not say.
        {"zh": re.compile(r"(香港|澳门|台湾|港澳台|港澳|港台)\S{0,20}(算|属于|当作|视为|按)\S{0,4}(国内|国外|境内|境外|海外)|"
                          r"(算|属于|当作|视为)\S{0,4}(国内|境内|国外|境外|海外)(还是|或者|或)"),
         "en": re.compile(r"\b(hong ?kong|hk|macao|macau|taiwan\w*)\b.{0,60}\b(count|counts|considered|treated|classed) as "
                          r"(domestic|foreign|overseas|local|international|inside china|within china|outside china|"
                          r"国内|境内|国外|境外|海外)\b|"
                          r"\b(count|counts|counted|considered|treated|classed|classified|regarded) as (an? )?(domestic|local|"
                          r"foreign|overseas|international|国内|境内|国外|境外)( \w+)? or\b|\b(are|is|am) (we|i|it|they|that) (domestic|local|"
                          r"foreign|overseas) or (domestic|local|foreign|overseas)\b", re.IGNORECASE)},
        re.compile(r"(香港|澳门|台湾|港澳台)\S{0,10}(视为|按|属于|算)|\b(hong kong|macao|macau|taiwan)\b.{0,40}\b(treated|"
                   r"considered|counts?|regarded) as\b", re.IGNORECASE),
    ),
    AnswerType(
        # "推荐人需要什么资格？": who may nominate, which the guideline never sets
        "nominator",
        {"zh": re.compile(r"(推荐人|推荐专家|推荐的专家|推荐者)\S{0,6}(什么|哪些|啥)(资格|条件|资质|要求)|"
                          r"什么样的(专家|人)\S{0,4}(才能|才可以|可以|能)推荐|谁都(可以|能)推荐"),
         # not "who can nominate?": experts, the guideline says
         "en": re.compile(r"\b(nominating|recommending) (experts?|persons?|people)\b.{0,20}\b(need|must|have to|required)\b|"
                          r"\b(qualifications?|requirements?|"
                          r"criteria) (for|of) (the |a )?(nominators?|recommenders?|referees?|nominating experts?)\b",
                          re.IGNORECASE)},
        re.compile(r"(推荐人|推荐专家)\S{0,10}(须|应|需|资格|条件)|\bnominators? (must|should|need)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "is the 24:00 deadline Beijing time?": a time zone, which "24:00" alone does not name
        "timezone",
        {"zh": re.compile(r"北京时间|时区|当地时间|美国时间|欧洲时间"),
         "en": re.compile(r"\b(beijing|china|shanghai|local|our) time\b|\btime ?zones?\b|\b(gmt|utc|cst|pst|est|cet)\b",
                          re.IGNORECASE)},
        re.compile(r"北京时间|时区|\b(beijing time|time ?zone|gmt|utc)\b", re.IGNORECASE),
    ),
    AnswerType(
        # "can you translate our business plan?": a service the committee's documents never offer
        "service",
        # "帮我把申报表翻译成英文"
        {"zh": re.compile(r"(帮我|帮忙|帮我们|替我|替我们|给我|给我们)(把\S{1,12}?)?(翻译|写|起草|改写|润色|修改|订|预订|找个|找一)"),
         "en": re.compile(r"\b(can|could|would) (you|u) (please |pls |just )?(help (me|us) )?(translate|write|draft|rewrite|polish|proofread|book|"
                          r"find me|fill (in|out))\b|"
                          # "translate 'new quality productive forces' into french for me", "write python code to …"
                          r"^\W*(?:(?:please|pls|plz|hi|hey|ok|okay|also|and)\W+)*(translate|proofread|polish|rewrite|draft|"
                          r"write (me |us )?(a |an |some )?(python|code|script|program|poem|essay|cover letter|speech|summary))\b",
                          re.IGNORECASE)},
        re.compile(r"(?!)"),  # nothing in a passage offers it
    ),
    AnswerType(
        "date",
        # "when …?" is answered by a date: the mailbox is no answer to "when's the ddl for submissions?"
        {"zh": re.compile(r"哪天|哪一天|几号|几月几|什么日子|具体日期|哪几天|什么时候|啥时候|何时|几时"),
         "en": re.compile(r"\b(what|which|exact) (date|day)\b|\bwhen exactly\b|"
                          r"^\W*(?:(?:so|and|ok|okay|hi|hey|hello|yo|hmm|sorry|quick|q|pls|please|btw|also|but|um|uh)\W+)*"
                          r"when(?:'s|s)?\b"
                          r"(?! (?:i|we|you|they|it) (?:submit|send|apply|enter|get|have|are|am)\b)|"
                          r"\bwhen (?:is|are|does|do|will|did|can|should|would|was|were)\b|"
                          # "what's the deadline for the park award?": the date, not the award it names
                          r"\b(?:what'?s|whats|what is) (?:the |your )?(?:exact |final |submission |application |entry )?"
                          r"(?:deadline|due date|closing date|cut-?off)\b|^\W*(?:the )?(?:deadline|due date|closing date)\b",
                          re.IGNORECASE)},
        _DATE,
    ),
)

# Another edition, or the outcome of this one: the guideline of this edition cannot say.
_OTHER_EDITION = {
    # the asker's words may hold the award's name written out beside it ("科创园区榜 (年度科创园区)")
    "zh": re.compile(r"(去年|往年|往届|上届|历届|前几届|上一届|明年|下一届)[^，,。？?！!]{0,30}(获奖|得奖|上榜|入围|榜单|评选|奖|是谁|哪家|"
                     r"谁拿|谁得|是哪几|哪几家|哪几个|哪些|都有谁|有谁|请过|激烈)|"
                     # "上一届（2023年）报名截止是几号": any fact of another edition, not the asker's own last time
                     r"(?<!我们)(?<!我)(上一届|上届|往届|历届|前几届|下一届|下届)[^，,。？?！!]{0,12}(截止|时间|几号|几月|哪天|规则|"
                     r"要求|主题|奖项|评委|嘉宾|在哪|地点|多少|几家|几个|名单|结果)"),
    "en": re.compile(
        # Last year's winners, not the asker's own last year ("we won a patent case last year").
        r"\b(last (years?|yrs?)|previous (year|edition)s?|past editions?|next year)('s)?( (award|edition|call))?\s+"
        r"(winners?|finalists?|awards?|list|results?|edition|shortlist)\b|\bpast winners\b|"
        r"\b(who|(which|what) \w+) (won|got|took)\b.{0,90}\b(last (years?|yrs?|time|round)|previous (year|edition|round))\b|"
        r"\b(last (year|yr|time|round)|previous (year|edition|round))\W{1,3}(\d{4}\W{1,3})?(who|(which|what) \w+) (won|got|took)\b|"
        r"\b(winners?|finalists?)\b.{0,30}\b(last (year|time|round)|previous (year|edition|round))\b|"
        r"\b(last|previous|prior|past) (edition|call)('s)?\b|\blast year's (\(\d{4}\) )?(edition|call|deadline|awards?|competition|"
        r"winners?|finalists?|list|"
        r"forum|ceremony|jury|judges|theme)\b",
        re.IGNORECASE,
    ),
}
_PREDICTION = {
    "zh": re.compile(r"(会不会|能不能|有没有希望|有希望|一定能|肯定能|稳).{0,6}(获奖|得奖|上榜|入围|评上|拿奖)"),
    "en": re.compile(r"\bwill\b.{0,40}\b(win|be (selected|shortlisted))\b|\bchances? of winning\b", re.IGNORECASE),
}


# A year named as an edition's ("2023年的获奖名单", "the 2025 edition"), not as the entrant's ("2019年成立的公司").
_EDITION_YEAR = {
    # "2023年那届是几月截止的": that edition, whatever is asked of it
    "zh": re.compile(r"(?<!\d)(20\d\d)(?!\d)\s*年?\s*(?:那|上)[届次]|(?<!\d)(20\d\d)(?!\d)\s*(?:年度?|届)?[)）]?\s*(?:那[届次])?的?\s*(?:科创先锋|征集|评选|活动|论坛|获奖|得奖|"
                     r"上榜|入围|榜单|名单|报名|申报|截止|还办|还有|还会|会办|举办)|"
                     # "2025年什么时候开始报名": that year's call, not a company founded that year ("2015年成立的公司能报名吗")
                     r"(?<!\d)(20\d\d)(?!\d)\s*年(?:(?!成立|注册|创办|创立|起|以来|开始做)[^，,。？?！!\d\s]){0,8}(?:报名|申报|截止|征集|评选)|"
                     # "2023年度科创街区是谁拿的": who won in a year
                     # ("2019年成立的公司是哪个类别": the asker's company, not an edition)
                     r"(?<!\d)(20\d\d)(?!\d)(?:(?!成立|注册|创办|创立|以来)[^，。？?！!]){0,14}(?:是谁|谁拿|谁得|哪家|哪几家|是哪个|是哪些|得主|获得者|"
                     r"(?:获奖|得奖|入围|上榜)\S{0,4}(?:有哪些|是哪|名单))"),
    "en": re.compile(r"(?<!\d)(20\d\d)(?!\d)\)?\s*(?:'s\s*)?(?:edition|winners?|finalists?|list|awards?|forum|call|round|one|"
                     r"deadline|results?)\b|\b(?:edition|winners?|finalists?|awards?|forum|call|results?|deadline)\s+"
                     r"(?:of|in|for)\s+(20\d\d)(?!\d)|\bwho (?:won|got|took|received)\b.{0,60}?(?<!\d)(20\d\d)(?!\d)|"
                     # "last year 2023, who won the product award?": the year before the question
                     r"(?<!\d)(20\d\d)(?!\d)\W{1,3}(?:who|which \w+) (?:won|got|took|received)\b",
                     re.IGNORECASE),
}


def outside_edition(question: str, *, lang: str, years: frozenset[str] = frozenset()) -> bool:
    """True for questions about another edition or predictions of this one's results.

    `years` are the years the knowledge base speaks of: a question naming an edition of any other year asks
    what these documents cannot hold.
    """
    named = {y for match in _EDITION_YEAR[lang].finditer(question) for y in match.groups() if y}
    return bool(_OTHER_EDITION[lang].search(question) or _PREDICTION[lang].search(question) or named - years)


_LATIN_BESIDE_HAN = re.compile(r"(?<=[A-Za-z0-9])(?=[\u4e00-\u9fff])|(?<=[\u4e00-\u9fff])(?=[A-Za-z0-9])")


# One question is checked against every candidate entry and passage, a dozen times over: a quarter of the time
# of the slowest questions went to these patterns before they were remembered.
@lru_cache(maxsize=4096)
def asked_types(question: str, *, lang: str) -> tuple[AnswerType, ...]:
    """The kinds of fact the question asks for (often none); a Chinese question's English words count too
    ("申报表有word count限制吗")."""
    if lang != "zh":
        return tuple(t for t in ANSWER_TYPES if t.asks[lang].search(question))
    # Spaced from the Chinese around them, the English words meet the word boundaries of the English patterns.
    spaced = _LATIN_BESIDE_HAN.sub(" ", question)
    return tuple(t for t in ANSWER_TYPES if t.asks["zh"].search(question) or t.asks["en"].search(spaced))


@lru_cache(maxsize=16384)
def can_answer(question: str, passage: str, *, lang: str) -> bool:
    """False when the question asks for a kind of fact the passage does not contain."""
    return all(t.found.search(passage) for t in asked_types(question, lang=lang))
