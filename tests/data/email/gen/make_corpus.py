#!/usr/bin/env python3
"""Regenerate the small email corpus in tests/data/email/.

Each message is shaped like the output of the mail software named in its
comment (header order, boundary style, line lengths, encodings), with the
encoded parts produced by Python's own codecs (base64, quopri, email.header,
the codecs for GB2312/GBK/GB18030/Big5/ISO-2022-JP/CP932/windows-1252), and
python_email_lib.eml is produced by Python's email package itself. The
expectations live next to each message in NAME.expect and are written by
hand: they say what a reader sees, not what the parser happens to return.

Usage: python3 make_corpus.py [OUT_DIR]   (default: the folder above this one)
The big messages (hundreds of recipients, a 10 MB attachment) are made at
test time by gen_big.py and never committed.
"""
import base64
import email.policy
import os
import quopri
import sys
from email.message import EmailMessage
from email.utils import make_msgid

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + width] for i in range(0, len(s), width))


def qp(data):
    return quopri.encodestring(data).decode("ascii")


def bword(text, cs="utf-8"):
    return "=?%s?B?%s?=" % (cs, base64.b64encode(text.encode(cs)).decode())


def qword(text, cs="utf-8"):
    raw = text.encode(cs)
    out = ""
    for c in raw:
        ch = chr(c)
        if ch == " ":
            out += "_"
        elif ch.isalnum() and c < 128:
            out += ch
        else:
            out += "=%02X" % c
    return "=?%s?Q?%s?=" % (cs, out)


def write(name, text, crlf=True, raw=None):
    data = raw if raw is not None else text.encode("utf-8")
    if raw is None and crlf:
        data = data.replace(b"\n", b"\r\n")
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)


def write_bytes(name, parts, crlf=True):
    data = b"".join(p if isinstance(p, bytes) else p.encode("ascii") for p in parts)
    if crlf:
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)


def main():
    # --- RFC 2047 -----------------------------------------------------
    # Thunderbird 115: B-encoded UTF-8 subject and display name.
    write("rfc2047_b_utf8", f"""Message-ID: <6b1f0a52-3c1e-4d0b-9a57-2f1a7e0c9d11@qq-mail.example>
Date: Tue, 5 Mar 2024 09:14:03 +0800
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
Content-Language: zh-CN
To: support@warbler.example
From: {bword("王小明")} <Wang.XiaoMing@Example.CN>
Subject: {bword("订单 #1024 还没有发货")}
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 8bit

你好，我的订单 #1024 已经一周了还没有发货，请帮忙查一下。

王小明
""")
    # Apple Mail: Q-encoded ISO-8859-1.
    write("rfc2047_q_latin1", f"""From: {qword("José Müller", "iso-8859-1")} <jose@example.de>
Content-Type: text/plain;
\tcharset=us-ascii
Content-Transfer-Encoding: 7bit
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))
Subject: {qword("Café crème order", "iso-8859-1")}
Message-Id: <A1B2C3D4-1111-2222-3333-444455556666@example.de>
Date: Wed, 6 Mar 2024 17:02:44 +0100
To: support@warbler.example
X-Mailer: Apple Mail (2.3774.500.171.1.1)

Hello, where is my order?
""")
    # Gmail: a long subject folded into several B words, one character
    # split across two words; and a display name in Q with folding.
    subj = "关于退款申请的进一步说明和附件补充材料".encode("utf-8")
    w1 = base64.b64encode(subj[:20]).decode()   # 20 bytes: splits a 3-byte char
    w2 = base64.b64encode(subj[20:40]).decode()
    w3 = base64.b64encode(subj[40:]).decode()
    write("rfc2047_split", f"""MIME-Version: 1.0
Date: Thu, 7 Mar 2024 10:00:00 +0000
Message-ID: <CAF=abcdEFGH1234567890split@mail.gmail.com>
Subject: Re: =?UTF-8?B?{w1}?=
 =?UTF-8?B?{w2}?=
 =?UTF-8?B?{w3}?=
From: =?UTF-8?Q?Fran=C3=A7ois_?=
 =?UTF-8?Q?Dupont?= <francois.dupont@gmail.com>
To: support@warbler.example
Content-Type: text/plain; charset="UTF-8"

Voici les documents.
""")
    # Malformed words seen in the wild: unknown charset (decoded as
    # Latin-1), invalid base64 (dropped), an unterminated word (kept as
    # text), an encoded word inside quotes.
    write("rfc2047_malformed", """From: "=?utf-8?B?5p2O5Zub?=" <li.si@example.com>
To: support@warbler.example
Subject: =?x-unknown?Q?caf=E9?= =?utf-8?B?!!!?= =?utf-8?Q?unterminated
Date: Fri, 8 Mar 2024 08:00:00 +0800
Message-ID: <malformed-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

broken subject
""")

    # --- charsets -------------------------------------------------------
    # Foxmail 7.2: labelled gb2312, containing a GBK-only character.
    body = "您好：\n\n我叫张喆，订单号 88231，收到的商品有破损。\n\n张喆\n".encode("gbk")
    write_bytes("charset_gb2312", [f"""Date: Sat, 9 Mar 2024 11:20:31 +0800
From: "=?gb2312?B?{base64.b64encode("张喆".encode("gbk")).decode()}?=" <zhangzhe@foxmail.example>
To: "support" <support@warbler.example>
Subject: {bword("商品破损", "gb2312")}
X-Priority: 3
X-Has-Attach: no
X-Mailer: Foxmail 7.2.25.228[cn]
Mime-Version: 1.0
Message-ID: <202403091120310123456@foxmail.example>
Content-Type: text/plain;
\tcharset="gb2312"
Content-Transfer-Encoding: base64

""", b64(body), "\n"])
    # QQ Mail: GBK quoted-printable.
    body = "请问发票什么时候开？\n谢谢！\n".encode("gbk")
    write_bytes("charset_gbk", [f"""From: "=?gbk?B?{base64.b64encode("小李".encode("gbk")).decode()}?=" <10001@qq.example>
To: "support" <support@warbler.example>
Subject: =?gbk?B?{base64.b64encode("发票".encode("gbk")).decode()}?=
Mime-Version: 1.0
Content-Type: text/plain;
\tcharset="gbk"
Content-Transfer-Encoding: quoted-printable
Date: Sat, 9 Mar 2024 12:00:00 +0800
X-Priority: 3
Message-ID: <tencent_ABCDEF0123456789@qq.example>
X-QQ-MIME: TCMime 1.0 by Tencent

""", qp(body)])
    # GB18030 8-bit with a four-byte sequence (U+3400) and an emoji.
    body = "扩展字符：㐀 和 😀 都要保留。\n".encode("gb18030")
    write_bytes("charset_gb18030", ["""From: gb18030-user@example.cn
To: support@warbler.example
Subject: GB18030 test
Date: Sun, 10 Mar 2024 09:00:00 +0800
Message-ID: <gb18030-1@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=GB18030
Content-Transfer-Encoding: 8bit

""", body])
    # Outlook (zh-TW): Big5 base64.
    body = "您好，請問退貨流程是什麼？\n".encode("big5")
    write_bytes("charset_big5", [f"""From: =?big5?B?{base64.b64encode("陳大文".encode("big5")).decode()}?= <chan@example.tw>
To: "support@warbler.example" <support@warbler.example>
Subject: =?big5?B?{base64.b64encode("退貨".encode("big5")).decode()}?=
Thread-Topic: =?big5?B?{base64.b64encode("退貨".encode("big5")).decode()}?=
Thread-Index: AdpzBc3yS1z0Q1w5RvK2kLk1bQ==
Date: Mon, 11 Mar 2024 02:03:04 +0000
Message-ID: <TYZPR01MB5555ABCDEF0123456789@TYZPR01MB5555.apcprd01.prod.outlook.example>
Accept-Language: zh-TW, en-US
Content-Language: zh-TW
X-MS-Has-Attach:
Content-Type: text/plain; charset="big5"
Content-Transfer-Encoding: base64
MIME-Version: 1.0

""", b64(body), "\n"])
    # Thunderbird (ja): ISO-2022-JP, 7bit, subject too.
    body = "お世話になっております。\n注文の件でご連絡しました。\n".encode("iso-2022-jp")
    write_bytes("charset_iso2022jp", [f"""Message-ID: <a7c2e3b0-iso2022jp@example.jp>
Date: Tue, 12 Mar 2024 10:11:12 +0900
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
From: =?ISO-2022-JP?B?{base64.b64encode("山田太郎".encode("iso-2022-jp")).decode()}?= <yamada@example.jp>
To: support@warbler.example
Subject: =?ISO-2022-JP?B?{base64.b64encode("注文について".encode("iso-2022-jp")).decode()}?=
Content-Type: text/plain; charset=ISO-2022-JP
Content-Transfer-Encoding: 7bit

""", body])
    # Outlook (ja): labelled Shift_JIS with a CP932 circled digit.
    body = "①番の商品が届いていません。\n".encode("cp932")
    write_bytes("charset_shiftjis", ["""From: suzuki@example.jp
To: support@warbler.example
Subject: =?shift_jis?B?""", base64.b64encode("未着".encode("cp932")).decode(), """?=
Date: Tue, 12 Mar 2024 11:00:00 +0900
Message-ID: <shiftjis-1@example.jp>
MIME-Version: 1.0
Content-Type: text/plain; charset="shift_jis"
Content-Transfer-Encoding: base64

""", b64(body), "\n"])
    # Outlook (en): labelled iso-8859-1 carrying windows-1252 quotes.
    body = "I \x93love\x94 the product, but it\x92s broken.\n".encode("latin-1")
    write_bytes("charset_latin1", ["""From: "O'Brien, Sean" <sean.obrien@example.ie>
To: "support@warbler.example" <support@warbler.example>
Subject: Broken product
Date: Wed, 13 Mar 2024 14:15:16 +0000
Message-ID: <DB9PR01MB0000latin1@DB9PR01MB0000.eurprd01.prod.outlook.example>
Content-Type: text/plain; charset="iso-8859-1"
Content-Transfer-Encoding: quoted-printable
MIME-Version: 1.0

""", qp(body)])
    body = "The refund of 25\x80 is missing \x96 please check.\n".encode("latin-1")
    write_bytes("charset_windows1252", ["""From: Anna Schmidt <anna@example.at>
To: support@warbler.example
Subject: Refund
Date: Wed, 13 Mar 2024 15:00:00 +0100
Message-ID: <cp1252-1@example.at>
MIME-Version: 1.0
Content-Type: text/plain; charset="Windows-1252"
Content-Transfer-Encoding: quoted-printable

""", qp(body)])
    # Quoted-printable with soft breaks and =3D.
    write("qp_softbreaks", """From: Bob <bob@example.org>
To: support@warbler.example
Subject: Long line
Date: Thu, 14 Mar 2024 08:00:00 -0500
Message-ID: <qp-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

This is a very long line that the mail client wrapped with soft line brea=
ks, and it contains an equals sign: a=3Db, and caf=C3=A9.
""")

    # --- structure --------------------------------------------------------
    # Gmail: multipart/alternative, plain preferred.
    write("alternative_gmail", """MIME-Version: 1.0
Date: Fri, 15 Mar 2024 09:30:00 +0000
Message-ID: <CAF=alt123@mail.gmail.com>
Subject: Question about shipping
From: Emily Clark <emily.clark@gmail.com>
To: support@warbler.example
Content-Type: multipart/alternative; boundary="000000000000a1b2c3d4e5f6a7b8"

--000000000000a1b2c3d4e5f6a7b8
Content-Type: text/plain; charset="UTF-8"

PLAIN: Do you ship to Canada?

--000000000000a1b2c3d4e5f6a7b8
Content-Type: text/html; charset="UTF-8"

<div dir="ltr">HTML: Do you ship to <b>Canada</b>?</div>

--000000000000a1b2c3d4e5f6a7b8--
""")
    # A marketing-style HTML-only mail with script, style and head.
    html = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>SECRET TITLE</title>
<style type="text/css">body { color: red; } .hidden { display:none }</style>
<script>alert("SCRIPT CONTENT");</script>
</head>
<body>
<p>Hello&nbsp;team,</p>
<p>I need help with:</p>
<ul><li>invoice &amp; receipt</li><li>price &lt;100&gt; &#8364;5 &#x4E2D;&#25991;</li></ul>
<div>Line one<br>Line two</div>
<script type="text/javascript">document.write("MORE SCRIPT");</script>
<table><tr><td>Cell A</td><td>Cell B</td></tr></table>
<p>Thanks &quot;Mary&quot; &#39;M&#39;</p>
</body></html>
"""
    write("html_only_script", """From: Mary <mary@example.com>
To: support@warbler.example
Subject: HTML only
Date: Sat, 16 Mar 2024 10:00:00 +0000
Message-ID: <html-only-1@example.com>
MIME-Version: 1.0
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: quoted-printable

""" + qp(html.encode()))
    # Outlook (Microsoft 365) HTML-only reply with the divRplyFwdMsg block.
    html = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>
</head>
<body dir="ltr">
<div class="elementToProof" style="font-family: Aptos; font-size: 12pt;">Thanks, that fixed it.</div>
<div id="appendonsend"></div>
<hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" color="#000000"><b>From:</b> Warbler Support &lt;support@warbler.example&gt;<br>
<b>Sent:</b> Sunday, March 17, 2024 9:00 AM<br>
<b>To:</b> Tom Baker &lt;tom@example.com&gt;<br>
<b>Subject:</b> Re: Login problem</font>
<div>&nbsp;</div>
</div>
<div>Please reset your password from the login page.</div>
</body>
</html>
"""
    write("outlook_html_reply", """From: Tom Baker <tom@example.com>
To: Warbler Support <support@warbler.example>
Subject: RE: Login problem
Thread-Topic: Login problem
Thread-Index: AQHadGFkZXNpZ24=
Date: Sun, 17 Mar 2024 10:00:00 +0000
Message-ID: <PH0PR01MB0000reply@PH0PR01MB0000.namprd01.prod.outlook.example>
References: <wb.1.2.abc@warbler.example>
In-Reply-To: <wb.1.2.abc@warbler.example>
Content-Language: en-US
X-MS-Has-Attach:
Content-Type: text/html; charset="utf-8"
Content-Transfer-Encoding: base64
MIME-Version: 1.0

""" + b64(html.encode()) + "\n")
    # Thunderbird attachments: RFC 2231 names (single and continued, in
    # Chinese) and an Outlook-style RFC 2047 name.
    write("attachment_rfc2231", """Message-ID: <b2c3d4e5-rfc2231@example.com>
Date: Mon, 18 Mar 2024 09:00:00 +0800
MIME-Version: 1.0
User-Agent: Mozilla Thunderbird
To: support@warbler.example
From: Li Lei <lilei@example.com>
Subject: contract
Content-Type: multipart/mixed;
 boundary="------------0KzYb3xqGpL5Zv7mW8sN1aTd"

This is a multi-part message in MIME format.
--------------0KzYb3xqGpL5Zv7mW8sN1aTd
Content-Type: text/plain; charset=UTF-8; format=flowed
Content-Transfer-Encoding: 7bit

See the attached files.

--------------0KzYb3xqGpL5Zv7mW8sN1aTd
Content-Type: application/pdf; name="=?UTF-8?B?5ZCI5ZCMLnBkZg==?="
Content-Disposition: attachment; filename*=UTF-8''%E5%90%88%E5%90%8C.pdf
Content-Transfer-Encoding: base64

JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PC9UeXBlL0NhdGFsb2c+PgplbmRvYmoKdHJhaWxl
cgo8PC9Sb290IDEgMCBSPj4KJSVFT0YK

--------------0KzYb3xqGpL5Zv7mW8sN1aTd
Content-Type: text/plain; charset=UTF-8;
 name*0*=UTF-8''%E5%8F%91%E7%A5%A8%E6%98%8E%E7%BB%86%E8%A1%A8%E6%A0%BC;
 name*1*=%EF%BC%88%E7%AC%AC%E4%B8%80%E5%AD%A3%E5%BA%A6%EF%BC%89.txt
Content-Disposition: attachment;
 filename*0*=UTF-8''%E5%8F%91%E7%A5%A8%E6%98%8E%E7%BB%86%E8%A1%A8%E6%A0%BC;
 filename*1*=%EF%BC%88%E7%AC%AC%E4%B8%80%E5%AD%A3%E5%BA%A6%EF%BC%89.txt
Content-Transfer-Encoding: base64

5Y+R56Wo5piO57uGCg==

--------------0KzYb3xqGpL5Zv7mW8sN1aTd
Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;
\tname="=?utf-8?B?5oql5Lu35Y2VLnhsc3g=?="
Content-Description: =?utf-8?B?5oql5Lu35Y2VLnhsc3g=?=
Content-Disposition: attachment;
\tfilename="=?utf-8?B?5oql5Lu35Y2VLnhsc3g=?="; size=4; creation-date="Mon, 18 Mar 2024 01:00:00 GMT"
Content-Transfer-Encoding: base64

UEsDBA==

--------------0KzYb3xqGpL5Zv7mW8sN1aTd--
""")
    # Apple Mail: multipart/alternative with a multipart/related HTML
    # branch carrying an inline image.
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    write("inline_image", """From: Chloe Martin <chloe@example.fr>
Content-Type: multipart/alternative;
\tboundary="Apple-Mail=_1A2B3C4D-0000-1111-2222-333344445555"
Mime-Version: 1.0 (Mac OS X Mail 16.0 \\(3774.500.171.1.1\\))
Subject: Screenshot of the error
Message-Id: <C0FFEE00-1111-2222-3333-444455556666@example.fr>
Date: Tue, 19 Mar 2024 18:00:00 +0100
To: support@warbler.example
X-Mailer: Apple Mail (2.3774.500.171.1.1)


--Apple-Mail=_1A2B3C4D-0000-1111-2222-333344445555
Content-Transfer-Encoding: 7bit
Content-Type: text/plain;
\tcharset=us-ascii

Here is the error I get:

[image: screenshot.png]

--Apple-Mail=_1A2B3C4D-0000-1111-2222-333344445555
Content-Type: multipart/related;
\ttype="text/html";
\tboundary="Apple-Mail=_9F8E7D6C-0000-1111-2222-333344445555"


--Apple-Mail=_9F8E7D6C-0000-1111-2222-333344445555
Content-Transfer-Encoding: 7bit
Content-Type: text/html;
\tcharset=us-ascii

<html><body>Here is the error I get:<br><img src="cid:F1E2D3C4-0000@example.fr"></body></html>
--Apple-Mail=_9F8E7D6C-0000-1111-2222-333344445555
Content-Transfer-Encoding: base64
Content-Disposition: inline;
\tfilename=screenshot.png
Content-Type: image/png;
\tx-unix-mode=0644;
\tname="screenshot.png"
Content-Id: <F1E2D3C4-0000@example.fr>

""" + b64(png) + """

--Apple-Mail=_9F8E7D6C-0000-1111-2222-333344445555--

--Apple-Mail=_1A2B3C4D-0000-1111-2222-333344445555--
""")

    # --- replies (new text only) -----------------------------------------
    # Gmail plain-text reply, attribution wrapped on two lines.
    write("reply_english", """MIME-Version: 1.0
Date: Wed, 20 Mar 2024 08:00:00 +0000
References: <wb.10.20.aaa@warbler.example>
In-Reply-To: <wb.10.20.aaa@warbler.example>
Message-ID: <CAF=reply-en@mail.gmail.com>
Subject: Re: Your ticket #20
From: Peter Pan <peter.pan@gmail.com>
To: Warbler Support <support@warbler.example>
Content-Type: text/plain; charset="UTF-8"

Yes, the order number is 5531.

On Tue, Mar 19, 2024 at 6:00 PM Warbler Support <support@warbler.example>
wrote:

> Hello Peter,
>
> Could you send us your order number?
>
> Thanks
""")
    # Foxmail reply in Chinese: attribution 在...写道：
    write("reply_chinese", """Date: Wed, 20 Mar 2024 09:00:00 +0800
From: "=?utf-8?B?5byg5LiJ?=" <zhangsan@example.cn>
To: "Warbler Support" <support@warbler.example>
Subject: =?utf-8?B?5Zue5aSNOiDorqLljZXpl67popg=?=
References: <wb.11.21.bbb@warbler.example>
In-Reply-To: <wb.11.21.bbb@warbler.example>
X-Mailer: Foxmail 7.2.25.228[cn]
Mime-Version: 1.0
Message-ID: <2024032009000012345678@example.cn>
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 8bit

好的，我明天再试一下。

在 2024-03-19 18:00:00，"Warbler Support" <support@warbler.example> 写道：
>您好，请清除浏览器缓存后重试。
""")
    # QQ Mail / Foxmail with the 原始邮件 separator and 发件人 block.
    write("reply_foxmail", f"""From: "=?gb18030?B?{base64.b64encode("小李".encode("gb18030")).decode()}?=" <10001@qq.example>
To: "support" <support@warbler.example>
Subject: =?utf-8?B?5Zue5aSN77yaIOWPkeelqA==?=
Mime-Version: 1.0
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: base64
Date: Thu, 21 Mar 2024 10:00:00 +0800
Message-ID: <tencent_reply_foxmail@qq.example>
In-Reply-To: <wb.12.22.ccc@warbler.example>
References: <wb.12.22.ccc@warbler.example>

""" + b64("""收到，谢谢！

------------------ 原始邮件 ------------------
发件人: "support" <support@warbler.example>;
发送时间: 2024年3月20日(星期三) 下午5:00
收件人: "小李"<10001@qq.example>;
主题: Re: 发票

发票已经开好了。
""".encode()) + "\n")
    # Outlook desktop plain text: -----Original Message-----
    write("reply_outlook_plain", """From: "Davis, Karen" <karen.davis@example.com>
To: Warbler Support <support@warbler.example>
Subject: RE: Invoice 7781
Date: Fri, 22 Mar 2024 11:00:00 -0400
Message-ID: <0a1b01da7c5e$abcdef00$01234567$@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset="us-ascii"
Content-Transfer-Encoding: 7bit
X-Mailer: Microsoft Outlook 16.0
Thread-Index: AQJ0YWJjZGVmZ2hpamtsbW5vcA==
Content-Language: en-us

Please send it to accounts@example.com instead.

Karen

-----Original Message-----
From: Warbler Support <support@warbler.example>
Sent: Thursday, March 21, 2024 3:00 PM
To: Davis, Karen <karen.davis@example.com>
Subject: Invoice 7781

Your invoice is attached.
""")
    # Outlook (zh-CN): underscore rule then 发件人/发送时间/收件人/主题.
    write("reply_outlook_zh", """From: =?gb2312?B?wfXR8w==?= <liuyang@example.cn>
To: Warbler Support <support@warbler.example>
Subject: =?gb2312?B?tPC4tDogzcu/7g==?=
Date: Sat, 23 Mar 2024 09:00:00 +0000
Message-ID: <SG2PR01MB0000zh@SG2PR01MB0000.apcprd01.prod.outlook.example>
Content-Type: text/plain; charset="gb2312"
Content-Transfer-Encoding: base64
MIME-Version: 1.0

""" + b64("""已经收到退款，谢谢。

________________________________
发件人: Warbler Support <support@warbler.example>
发送时间: 2024年3月22日 18:00
收件人: 刘洋 <liuyang@example.cn>
主题: 退款

您的退款已处理。
""".encode("gb2312")) + "\n")
    # mutt-style interleaved (bottom) quoting.
    write("quoted_inline", """Date: Sun, 24 Mar 2024 12:00:00 +0100
From: Hans Weber <hans@example.de>
To: support@warbler.example
Subject: Re: Two questions
Message-ID: <20240324110000.GA1234@example.de>
References: <wb.13.23.ddd@warbler.example>
In-Reply-To: <wb.13.23.ddd@warbler.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii
Content-Disposition: inline
User-Agent: Mutt/2.2.9 (2022-11-12)

> Which model do you have?
The X200.

> When did you buy it?
Last May.
""")
    write("signature", """From: Ivan Petrov <ivan@example.ru>
To: support@warbler.example
Subject: Warranty
Date: Mon, 25 Mar 2024 10:00:00 +0300
Message-ID: <sig-1@example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Is the warranty two years?

Sent from my iPhone

-- 
Ivan Petrov
Head of Purchasing, Example LLC
+7 000 000 00 00
""")

    # --- loop protection ---------------------------------------------
    write("auto_submitted", """Auto-Submitted: auto-replied
From: Nora Jones <nora@example.com>
To: support@warbler.example
Subject: Out of office: Your ticket #30
Date: Tue, 26 Mar 2024 08:00:00 +0000
Message-ID: <CAF=vacation@mail.gmail.com>
In-Reply-To: <wb.30.1.eee@warbler.example>
References: <wb.30.1.eee@warbler.example>
Precedence: normal
MIME-Version: 1.0
Content-Type: text/plain; charset="UTF-8"

I am out of the office until April 2.
""")
    write("auto_xautoreply", """X-Autoreply: yes
From: Olga <olga@example.ru>
To: support@warbler.example
Subject: Autoreply: Your ticket
Date: Tue, 26 Mar 2024 09:00:00 +0300
Message-ID: <autoreply-1@example.ru>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

I will answer later.
""")
    write("auto_xautorespond", """X-Autorespond: Your message has been received
From: sales@example.net
To: support@warbler.example
Subject: Received
Date: Tue, 26 Mar 2024 10:00:00 +0000
Message-ID: <autorespond-1@example.net>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Thanks, we got it.
""")
    for word in ("bulk", "junk", "list"):
        write("auto_precedence_" + word, f"""From: News <news@example.com>
To: support@warbler.example
Subject: Weekly digest
Date: Wed, 27 Mar 2024 10:00:00 +0000
Message-ID: <precedence-{word}@example.com>
Precedence: {word}
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

This week's news.
""")
    write("list_id", """From: Alice <alice@example.org>
To: users@lists.example.org
Subject: [users] Anyone seen this?
Date: Wed, 27 Mar 2024 11:00:00 +0000
Message-ID: <list-1@example.org>
List-Id: Users of Example <users.lists.example.org>
List-Unsubscribe: <mailto:users-leave@lists.example.org>
Sender: users-bounces@lists.example.org
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hi all.
""")
    write("auto_submitted_no", """Auto-Submitted: no
From: Real Person <real@example.com>
To: support@warbler.example
Subject: Please answer me
Date: Wed, 27 Mar 2024 12:00:00 +0000
Message-ID: <autosubmitted-no@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

A human wrote this.
""")
    # Postfix bounce (DSN).
    write("bounce_postfix", """Return-Path: <>
Received: by mx.warbler.example (Postfix) id 4V2abc0XyZz1; Thu, 28 Mar 2024 09:00:01 +0000 (UTC)
Date: Thu, 28 Mar 2024 09:00:01 +0000 (UTC)
From: MAILER-DAEMON@mx.warbler.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@warbler.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="4V2abc0XyZz1.1711616401/mx.warbler.example"
Content-Transfer-Encoding: 8bit
Message-Id: <20240328090001.4V2abc0XyZz1@mx.warbler.example>

This is a MIME-encapsulated message.

--4V2abc0XyZz1.1711616401/mx.warbler.example
Content-Description: Notification
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host mx.warbler.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<nobody@example.invalid>: host example.invalid said: 550 5.1.1 User unknown

--4V2abc0XyZz1.1711616401/mx.warbler.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.warbler.example
Arrival-Date: Thu, 28 Mar 2024 09:00:00 +0000 (UTC)

Final-Recipient: rfc822; nobody@example.invalid
Action: failed
Status: 5.1.1

--4V2abc0XyZz1.1711616401/mx.warbler.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Content-Transfer-Encoding: 8bit

From: support@warbler.example
To: nobody@example.invalid
Subject: Re: Your ticket
Message-ID: <wb.40.1.fff@warbler.example>

--4V2abc0XyZz1.1711616401/mx.warbler.example--
""")
    write("from_self", """From: Warbler Support <Support@Warbler.Example>
To: support@warbler.example
Subject: Test to myself
Date: Thu, 28 Mar 2024 10:00:00 +0000
Message-ID: <wb.50.1.ggg@warbler.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Loop test.
""")

    # --- oddities ---------------------------------------------------------
    write("bare_lf", """From: Unix User <user@example.org>
To: support@warbler.example
Subject: bare LF
Date: Fri, 29 Mar 2024 10:00:00 +0000
Message-ID: <bare-lf@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="xyz"

--xyz
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Line one with caf=C3=A9
Line two

--xyz
Content-Type: text/plain; name="notes.txt"
Content-Disposition: attachment; filename="notes.txt"

attached notes
--xyz--
""", crlf=False)
    write("no_message_id", """From: Old Script <cron@example.org>
To: support@warbler.example
Subject: nightly report
Date: Fri, 29 Mar 2024 02:00:00 +0000

All jobs ran.
""")
    write("no_date", """From: Someone <someone@example.org>
To: support@warbler.example
Subject: no date here
Message-ID: <no-date@example.org>

Hello without a date.
""")
    # RFC 6532: raw UTF-8 in headers (Gmail to SMTPUTF8 peers).
    write("eight_bit_headers", """From: 赵六 <zhaoliu@example.cn>
To: support@warbler.example
Subject: 回复：回复: 账户无法登录
Date: Sat, 30 Mar 2024 10:00:00 +0800
Message-ID: <8bit-headers@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

登录时提示密码错误。
""")
    write_bytes("eight_bit_gbk_headers", [b"From: ", "钱七".encode("gbk"), b""" <qianqi@example.cn>
To: support@warbler.example
Subject: """, "转发: 价格".encode("gbk"), b"""
Date: Sat, 30 Mar 2024 11:00:00 +0800
Message-ID: <8bit-gbk@example.cn>
MIME-Version: 1.0
Content-Type: text/plain; charset=gbk
Content-Transfer-Encoding: 8bit

""", "价格是多少？\n".encode("gbk")])
    write("empty_body", """From: Empty <empty@example.com>
To: support@warbler.example
Subject: (no text)
Date: Sat, 30 Mar 2024 12:00:00 +0000
Message-ID: <empty-body@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

""")
    write("thread_refs", """From: Quinn <quinn@example.com>
To: support@warbler.example
Subject: Re: Re: Fwd: RE: 回复: Status
Date: Sun, 31 Mar 2024 10:00:00 +0000
Message-ID: <refs-4@example.com>
In-Reply-To: <wb.60.3.ccc@warbler.example>
References: <refs-1@example.com> <wb.60.2.bbb@warbler.example>
 <wb.60.3.ccc@warbler.example>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Any news?
""")
    write("forwarded_rfc822", """From: Rita <rita@example.com>
To: support@warbler.example
Subject: Fwd: complaint from my colleague
Date: Sun, 31 Mar 2024 11:00:00 +0000
Message-ID: <fwd-rfc822@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="fwdb"

--fwdb
Content-Type: text/plain; charset=utf-8

See the attached message.

--fwdb
Content-Type: message/rfc822
Content-Disposition: attachment

From: colleague@example.com
To: rita@example.com
Subject: complaint
Message-ID: <inner@example.com>

The delivery was late.

--fwdb--
""")
    write_bytes("garbage", [b"\x00\x01\x02\xff\xfe binary \x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", bytes(range(256))], crlf=False)
    write("not_mime", """Hello support,
this is just text pasted into a file, with no header at all.
""")

    # Python's email package (the library the benchmark baseline uses).
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["From"] = "Σωκράτης <socrates@example.gr>"
    msg["To"] = "support@warbler.example"
    msg["Subject"] = "Ερώτηση σχετικά με την παραγγελία"
    msg["Date"] = "Mon, 01 Apr 2024 12:00:00 +0300"
    msg["Message-ID"] = "<python-email-lib@example.gr>"
    msg.set_content("Γεια σας,\nπότε θα έρθει η παραγγελία μου;\n")
    msg.add_attachment(b"col1,col2\n1,2\n", maintype="text", subtype="csv",
                       filename="παραγγελία.csv")
    msg.set_boundary("===============4242424242424242424==")
    with open(os.path.join(OUT, "python_email_lib.eml"), "wb") as f:
        f.write(msg.as_bytes())
    assert make_msgid  # keep the import honest for readers


if __name__ == "__main__":
    main()
