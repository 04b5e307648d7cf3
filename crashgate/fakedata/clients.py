"""Vocabulary for the client side of a crash: OS, CPU, graphics notes, plugins, add-ons, user input.

Weights are relative; OS keys are those of ``vocab.OSES`` (also the products file's platforms).
"""

OS_NAMES = {"windows": "Windows NT", "mac": "Mac OS X", "linux": "Linux", "android": "Linux"}
DESKTOP_OS_MIX = (("windows", 75), ("mac", 15), ("linux", 10))

# (os_version, weight, cpu_name or None for any of the OS's CPUs)
OS_VERSIONS = {
    "windows": [("6.1.7601 Service Pack 1", 50, None), ("5.1.2600 Service Pack 3", 24, None),
                ("6.0.6002 Service Pack 2", 8, None), ("6.1.7600", 7, None), ("6.2.9200", 9, None),
                ("5.1.2600 Service Pack 2", 2, None)],
    "mac": [("10.6.8 10K549", 30, None), ("10.7.5 11G63", 30, None), ("10.8.2 12C60", 32, None),
            ("10.5.8 9L31a", 8, "x86")],
    "linux": [("0.0.0 Linux 3.2.0-32-generic #51-Ubuntu SMP Wed Sep 26 21:33:09 UTC 2012 x86_64", 35, "amd64"),
              ("0.0.0 Linux 3.5.0-17-generic #28-Ubuntu SMP Tue Oct 9 19:31:23 UTC 2012 x86_64", 25, "amd64"),
              ("0.0.0 Linux 3.6.6-1.fc17.x86_64 #1 SMP Mon Nov 5 21:59:35 UTC 2012 x86_64", 15, "amd64"),
              ("0.0.0 Linux 2.6.32-5-686 #1 SMP Sun Sep 23 09:49:36 UTC 2012 i686", 15, "x86"),
              ("0.0.0 Linux 3.2.0-4-486 #1 Debian 3.2.32-1 i686", 10, "x86")],
    "android": [("0.0.0 Linux 3.0.31-g9f818de #1 SMP PREEMPT Wed Aug 29 12:29:31 PDT 2012 armv7l", 40, None),
                ("0.0.0 Linux 2.6.35.7-perf-CL727859 #1 SMP PREEMPT Fri Jan 6 17:19:54 2012 armv7l", 30, None),
                ("0.0.0 Linux 3.0.8-perf #1 PREEMPT Mon Oct 22 10:33:22 KST 2012 armv7l", 30, None)],
}

# (cpu_name, cpu_info, weight)
CPUS = {
    "windows": [("x86", "GenuineIntel family 6 model 42 stepping 7", 25), ("x86", "GenuineIntel family 6 model 23 stepping 10", 18),
                ("x86", "GenuineIntel family 6 model 58 stepping 9", 12), ("x86", "GenuineIntel family 15 model 4 stepping 1", 8),
                ("x86", "AuthenticAMD family 16 model 6 stepping 3", 12), ("x86", "AuthenticAMD family 20 model 2 stepping 0", 8),
                ("x86", "GenuineIntel family 6 model 37 stepping 5", 10), ("x86", "GenuineIntel family 6 model 15 stepping 13", 7)],
    "mac": [("amd64", "GenuineIntel family 6 model 42 stepping 7", 35), ("amd64", "GenuineIntel family 6 model 23 stepping 10", 30),
            ("amd64", "GenuineIntel family 6 model 58 stepping 9", 25), ("x86", "GenuineIntel family 6 model 15 stepping 6", 10)],
    "linux": [("amd64", "GenuineIntel family 6 model 42 stepping 7", 30), ("amd64", "AuthenticAMD family 16 model 4 stepping 2", 20),
              ("x86", "GenuineIntel family 6 model 15 stepping 13", 25), ("x86", "AuthenticAMD family 15 model 107 stepping 2", 25)],
    "android": [("arm", "ARMv7 ARM Cortex-A9 features: swp,half,thumb,fastmult,vfpv2,edsp,neon,vfpv3,tls", 45),
                ("arm", "ARMv7 Qualcomm Krait features: swp,half,thumb,fastmult,vfpv2,edsp,neon,vfpv3,tls,vfpv4,idiva,idivt", 25),
                ("arm", "ARMv7 ARM Cortex-A8 features: swp,half,thumb,fastmult,vfpv2,edsp,neon,vfpv3", 15),
                ("arm", "ARMv7 Qualcomm Scorpion features: swp,half,thumb,fastmult,vfpv2,edsp,neon,vfpv3", 15)],
}

APP_NOTES = {
    "windows": [
        "AdapterVendorID: 0x8086, AdapterDeviceID: 0x0116, AdapterSubsysID: 00000000, AdapterDriverVersion: 8.15.10.2696\nD2D? D2D+ DWrite? DWrite+ D3D10 Layers? D3D10 Layers+ ",
        "AdapterVendorID: 0x10de, AdapterDeviceID: 0x0a20, AdapterSubsysID: 00000000, AdapterDriverVersion: 8.17.12.9573\nD2D? D2D+ DWrite? DWrite+ D3D10 Layers? D3D10 Layers+ ",
        "AdapterVendorID: 0x1002, AdapterDeviceID: 0x68e0, AdapterSubsysID: 00000000, AdapterDriverVersion: 8.970.100.1100\nD2D? D2D+ DWrite? DWrite+ D3D10 Layers? D3D10 Layers+ ",
        "AdapterVendorID: 0x8086, AdapterDeviceID: 0x2a42, AdapterSubsysID: 00000000, AdapterDriverVersion: 8.15.10.1930\nD3D9 Layers? D3D9 Layers+ ",
        "AdapterVendorID: 0x1002, AdapterDeviceID: 0x9802, AdapterSubsysID: 00000000, AdapterDriverVersion: 8.961.0.0\nD2D? D2D- DWrite? DWrite+ D3D10 Layers? D3D10 Layers- D3D9 Layers? D3D9 Layers+ ",
    ],
    "mac": [
        "AdapterVendorID: 0x10de, AdapterDeviceID: 0x 640, GL Context? GL Context+ GL Layers? GL Layers+ ",
        "AdapterVendorID: 0x8086, AdapterDeviceID: 0x 126, GL Context? GL Context+ GL Layers? GL Layers+ ",
        "AdapterVendorID: 0x1002, AdapterDeviceID: 0x6760, GL Context? GL Context+ GL Layers? GL Layers+ ",
    ],
    "linux": [
        "OpenGL: NVIDIA Corporation -- GeForce 8600 GT/PCIe/SSE2 -- 3.3.0 NVIDIA 295.40 -- texture_from_pixmap\n",
        "OpenGL: Tungsten Graphics, Inc -- Mesa DRI Intel(R) Sandybridge Mobile  -- 3.0 Mesa 8.0.4 -- texture_from_pixmap\n",
        "OpenGL: Advanced Micro Devices, Inc. -- ATI Radeon HD 4200 Series -- 3.3.11653 Compatibility Profile Context -- texture_from_pixmap\n",
    ],
    "android": [
        "AdapterDescription: 'Imagination Technologies -- PowerVR SGX 540 -- OpenGL ES 2.0 build 1.8@785978 -- Model: Galaxy Nexus, Product: yakju, Manufacturer: samsung, Hardware: tuna'\nEGL? EGL+ GL Context? GL Context+ GL Layers? GL Layers+ \nsamsung Galaxy Nexus\nsamsung/yakju/maguro:4.1.2/JZO54K/485486:user/release-keys",
        "AdapterDescription: 'Qualcomm -- Adreno (TM) 225 -- OpenGL ES 2.0 V@6.0 AU@ (CL@2721187) -- Model: Nexus 7, Product: nakasi, Manufacturer: asus, Hardware: grouper'\nEGL? EGL+ GL Context? GL Context+ \nasus Nexus 7\ngoogle/nakasi/grouper:4.1.2/JZO54K/485486:user/release-keys",
        "AdapterDescription: 'ARM -- Mali-400 MP -- OpenGL ES 2.0 -- Model: GT-I9300, Product: m0xx, Manufacturer: samsung, Hardware: smdk4x12'\nEGL? EGL+ \nsamsung GT-I9300\nsamsung/m0xx/m0:4.0.4/IMM76D/I9300XXALF2:user/release-keys",
    ],
}

# (name, filename, versions, weight) per OS.
PLUGINS = {
    "windows": [("Shockwave Flash", "NPSWF32.dll", ("11.4.402.287", "11.4.402.265", "11.3.300.271", "11.5.502.110"), 72),
                ("Java(TM) Platform SE 7 U9", "npjp2.dll", ("10.9.2.5",), 8),
                ("Silverlight Plug-In", "npctrl.dll", ("5.1.10411.0", "5.1.10411.1"), 7),
                ("QuickTime Plug-in 7.7.2", "npqtplugin.dll", ("7.7.2.0",), 4),
                ("Adobe Acrobat", "nppdf32.dll", ("10.1.4.38", "11.0.0.379"), 4),
                ("Microsoft® Windows Media Player Firefox Plugin", "np-mswmp.dll", ("1.0.0.8",), 2),
                ("Unity Player", "npUnity3D32.dll", ("3.5.6f4",), 2),
                ("DivX® Web Player", "npdivx32.dll", ("2.2.0.52",), 1)],
    "mac": [("Shockwave Flash", "Flash Player.plugin", ("11.4.402.287", "11.4.402.265"), 75),
            ("Silverlight Plug-In", "Silverlight.plugin", ("5.1.10411.0",), 10),
            ("QuickTime Plug-in 7.7.1", "QuickTime Plugin.plugin", ("7.7.1",), 10),
            ("Java Applet Plug-in", "JavaAppletPlugin.plugin", ("14.5.0",), 5)],
    "linux": [("Shockwave Flash", "libflashplayer.so", ("11.2.202.243", "11.2.202.238"), 80),
              ("Java(TM) Plug-in 1.7.0_09", "libnpjp2.so", ("1.7.0_09",), 10),
              ("IcedTea-Web Plugin (using IcedTea-Web 1.2 (1.2-2ubuntu1.3))", "IcedTeaPlugin.so", ("1.2",), 6),
              ("VLC Web Plugin", "libvlcplugin.so", ("2.0.3",), 4)],
}

DEFAULT_THEME = "{972ce4c6-7e08-4474-a285-3208198ce6fd}"
# (id, version, weight)
ADDONS = {
    "desktop": [
        ("{d10d0bf8-f5b5-c8b4-a8b2-2b9879e08c5d}", "2.2.1", 30),  # Adblock Plus
        ("{20a82645-c095-46ed-80e3-08825760534b}", "1.2.1", 25),  # .NET Framework Assistant
        ("{CAFEEFAC-0016-0000-0031-ABCDEFFEDCBA}", "6.0.31", 12),  # Java Console
        ("{82AF8DCA-6DE9-405D-BD5E-43525BDAD38A}", "5.8.0.9908", 10),  # Skype Click to Call
        ("firebug@software.joehewitt.com", "1.10.6", 9),
        ("{73a6fe31-595d-460b-a920-fcc0f8843232}", "2.6.1", 8),  # NoScript
        ("{e4a8a97b-f2ed-450b-b12d-ee082ba24781}", "1.5", 6),  # Greasemonkey
        ("{b9db16a4-6edc-47ec-a1f4-b86292ed211d}", "4.9.11", 7),  # Video DownloadHelper
        ("{DDC359D1-844A-42a7-9AA1-88A850A938A8}", "2.0.16", 5),  # DownThemAll!
        ("{19503e42-ca3c-4c27-b1e2-9cdb2170ee34}", "1.5.2.3", 4),  # FlashGot
        ("{46551EC9-40F0-4e47-8E18-8E5CF550CFB8}", "1.3", 4),  # Stylish
        ("firefox@ghostery.com", "2.8.3", 5),
        ("support@lastpass.com", "2.0.0", 5),
        ("foxmarks@kei.com", "4.1.3", 3),  # Xmarks
        ("{3112ca9c-de6d-4884-a869-9855de68056c}", "7.1.20120807W", 6),  # Google Toolbar
        ("toolbar@ask.com", "3.15.5.0", 8),
        ("wrc@avast.com", "7.0.1466", 7),
        ("avg@toolbar", "13.2.0.4", 6),
        ("{B7082FAA-CB62-4872-9106-E42DD88EDE45}", "3.5.0.181", 4),  # McAfee SiteAdvisor
        ("ffxtlbr@babylon.com", "1.1.8", 5),
        ("{2D3F3651-74B9-4795-BDEC-6DA2F431CB62}", "2012.2.0.9", 3),
        ("{6AC85730-7D0F-4de0-B3FA-21142DD85326}", "0.9.10", 3),  # ColorZilla
        ("{a7c6cf7f-112c-4500-a7ea-39801a327e5f}", "1.0", 2),
    ],
    "mail": [
        ("{e2fda1a4-762b-4020-b5ad-a41df1933103}", "1.9", 40),  # Lightning
        ("{847b3a00-7ab1-11d4-8f02-006008948af5}", "1.4.5", 15),  # Enigmail
        ("{a62ef8ec-5fdc-40c2-873c-223b8a6925cc}", "2.2.5", 8),  # Provider for Google Calendar
        ("{3550f703-e582-4d05-9a08-453d09bdfdc6}", "16.0.2", 5),
        ("{d10d0bf8-f5b5-c8b4-a8b2-2b9879e08c5d}", "2.2.1", 5),
    ],
    "mobile": [
        ("{d10d0bf8-f5b5-c8b4-a8b2-2b9879e08c5d}", "2.2.1", 30),
        ("fullscreen@mozilla.org", "1.1", 10),
        ("phonybook@mozilla.org", "0.3", 5),
    ],
}
# (number of add-ons besides the default theme, weight)
ADDON_COUNTS = ((0, 25), (1, 20), (2, 17), (3, 13), (4, 9), (5, 6), (6, 4), (7, 6))

# URLs; ``{}`` is filled with a per-crash token (see crashes.URL_TOKENS).
URLS = [
    ("http://www.facebook.com/", 14), ("https://www.facebook.com/messages/{}", 4),
    ("http://www.youtube.com/watch?v={}", 12), ("https://mail.google.com/mail/?shva=1#inbox", 6),
    ("https://www.google.com/search?q={}&ie=utf-8&oe=utf-8", 8), ("http://en.wikipedia.org/wiki/{}", 4),
    ("http://www.amazon.com/", 3), ("http://www.ebay.com/itm/{}", 3), ("http://www.bbc.co.uk/news/", 2),
    ("http://www.nytimes.com/", 2), ("http://mail.yahoo.com/", 3), ("https://twitter.com/", 3),
    ("about:blank", 5), ("about:home", 4), ("about:newtab", 2), ("http://www.pandora.com/", 2),
    ("http://www.hulu.com/watch/{}", 2), ("http://apps.facebook.com/farmville/", 3),
    ("http://www.reddit.com/r/{}/", 2), ("http://www.spiegel.de/", 1), ("http://www.yandex.ru/", 1),
    ("http://www.baidu.com/s?wd={}", 1), ("https://www.bankofamerica.com/", 1), ("http://vk.com/", 1),
    ("https://addons.mozilla.org/en-US/firefox/", 1), ("http://www.imdb.com/title/tt{}/", 1),
    ("file:///C:/Users/{}/Desktop/index.html", 1),
]
SEARCH_TERMS = ["firefox+crash", "weather", "facebook+login", "caf%C3%A9+recipes", "c%2B%2B+tutorial",
                "100%25+cotton", "flash+player+update", "%E6%97%A5%E6%9C%AC"]
WIKI_ARTICLES = ["Mozilla", "Caf%C3%A9", "Main_Page", "C%2B%2B", "Firefox", "Special:Random"]
SUBREDDITS = ["pics", "firefox", "programming", "funny"]
USER_NAMES = ["john", "maria", "j.smith", "anna.k", "pierre", "yuki", "dmitri", "sam_t", "o.brien", "lee"]
EMAIL_DOMAINS = ["gmail.com", "yahoo.com", "hotmail.com", "example.com", "web.de", "mail.ru", "aol.com", "orange.fr"]

COMMENTS = [
    "Firefox crashed while watching a video on YouTube.", "It just crashed again!!!",
    "I was typing an email and it crashed", "Flash keeps crashing", "crash on startup",
    "Firefox stürzt beim Öffnen von Tabs ab", "Le navigateur plante à chaque fois que j'ouvre Facebook",
    "動画を見ていたらクラッシュしました", "Opened a PDF \"invoice.pdf\" and it died", "printing a page",
    "it's the 3rd time today", "Crashed after the update", "100% CPU then crash", "Closing a tab",
    "Trying to play FarmVille", "Было открыто много вкладок",
    "C:\\Users\\me\\Downloads\\setup.exe was downloading", "<script>alert(1)</script>",
    "Robert'); DROP TABLE reports;--", "multi-line\ncomment\twith tabs",
]

PROCESSOR_NOTES_OK = (("", 80), ("processor01_example_com.2411; MozillaProcessorAlgorithm2012", 8),
                      ("processor03_example_com.1907; MozillaProcessorAlgorithm2012", 8),
                      ("WARNING: JSON file missing Add-ons", 4))
PROCESSOR_NOTES_FAILED = ("MDSW failed on 'upload_file_minidump': ERROR_NO_MINIDUMP_HEADER",
                          "MDSW terminated with SIGKILL due to timeout", "MDSW did not identify the crashing thread")
FAILED_SIGNATURE = "EMPTY: no crashing thread identified; corrupt dump"
