"""Vocabulary for fake stacks: Gecko classes, methods, modules, common stack tails.

Frames are written abstractly as ``(function, module_key, file)``; a module key names a
per-OS module in ``MODULES`` (``"xul"`` -> ``xul.dll`` / ``XUL`` / ``libxul.so``), ``"exe"`` is the
process's executable, anything else is a literal module name.
"""

OSES = ("windows", "mac", "linux", "android")

MODULES = {
    "xul": ("xul.dll", "XUL", "libxul.so", "libxul.so"),
    "js": ("mozjs.dll", "XUL", "libxul.so", "libxul.so"),
    "nspr": ("nspr4.dll", "libnspr4.dylib", "libnspr4.so", "libnspr4.so"),
    "libc": ("msvcr100.dll", "libsystem_c.dylib", "libc.so.6", "libc.so"),
    "mozglue": ("mozglue.dll", "libmozglue.dylib", "libmozglue.so", "libmozglue.so"),
    "mozalloc": ("mozalloc.dll", "libmozalloc.dylib", "libmozalloc.so", "libmozalloc.so"),
}
MODULES = {key: dict(zip(OSES, names)) for key, names in MODULES.items()}

# (class, source file, area); the area picks plausible stack tails.
CLASSES = [
    ("nsCSSFrameConstructor", "layout/base/nsCSSFrameConstructor.cpp", "layout"),
    ("PresShell", "layout/base/nsPresShell.cpp", "layout"),
    ("nsFrame", "layout/generic/nsFrame.cpp", "layout"),
    ("nsBlockFrame", "layout/generic/nsBlockFrame.cpp", "layout"),
    ("nsTextFrame", "layout/generic/nsTextFrameThebes.cpp", "layout"),
    ("nsLineLayout", "layout/generic/nsLineLayout.cpp", "layout"),
    ("nsDisplayList", "layout/base/nsDisplayList.cpp", "layout"),
    ("nsLayoutUtils", "layout/base/nsLayoutUtils.cpp", "layout"),
    ("nsImageFrame", "layout/generic/nsImageFrame.cpp", "layout"),
    ("nsObjectFrame", "layout/generic/nsObjectFrame.cpp", "plugins"),
    ("nsTableFrame", "layout/tables/nsTableFrame.cpp", "layout"),
    ("nsTreeBodyFrame", "layout/xul/base/src/tree/src/nsTreeBodyFrame.cpp", "layout"),
    ("nsSVGUtils", "layout/svg/base/src/nsSVGUtils.cpp", "layout"),
    ("nsComputedDOMStyle", "layout/style/nsComputedDOMStyle.cpp", "layout"),
    ("nsStyleContext", "layout/style/nsStyleContext.cpp", "layout"),
    ("nsRuleNode", "layout/style/nsRuleNode.cpp", "layout"),
    ("nsCSSParser", "layout/style/nsCSSParser.cpp", "layout"),
    ("nsViewManager", "view/src/nsViewManager.cpp", "layout"),
    ("nsDocument", "content/base/src/nsDocument.cpp", "dom"),
    ("nsINode", "content/base/src/nsINode.cpp", "dom"),
    ("nsGenericElement", "content/base/src/nsGenericElement.cpp", "dom"),
    ("nsRange", "content/base/src/nsRange.cpp", "dom"),
    ("nsObjectLoadingContent", "content/base/src/nsObjectLoadingContent.cpp", "plugins"),
    ("nsContentUtils", "content/base/src/nsContentUtils.cpp", "dom"),
    ("nsXMLHttpRequest", "content/base/src/nsXMLHttpRequest.cpp", "dom"),
    ("nsHTMLMediaElement", "content/html/content/src/nsHTMLMediaElement.cpp", "dom"),
    ("nsEventListenerManager", "content/events/src/nsEventListenerManager.cpp", "dom"),
    ("nsEventStateManager", "content/events/src/nsEventStateManager.cpp", "dom"),
    ("nsGlobalWindow", "dom/base/nsGlobalWindow.cpp", "dom"),
    ("nsJSContext", "dom/base/nsJSEnvironment.cpp", "js"),
    ("mozilla::dom::Element", "content/base/src/Element.cpp", "dom"),
    ("mozilla::dom::indexedDB::IDBTransaction", "dom/indexedDB/IDBTransaction.cpp", "storage"),
    ("nsDocShell", "docshell/base/nsDocShell.cpp", "dom"),
    ("nsHTMLEditor", "editor/libeditor/html/nsHTMLEditor.cpp", "dom"),
    ("js::GCMarker", "js/src/jsgc.cpp", "js"),
    ("JSObject", "js/src/jsobj.cpp", "js"),
    ("JSScript", "js/src/jsscript.cpp", "js"),
    ("js::mjit::Compiler", "js/src/methodjit/Compiler.cpp", "js"),
    ("js::ion::CodeGenerator", "js/src/ion/CodeGenerator.cpp", "js"),
    ("js::types::TypeObject", "js/src/jsinfer.cpp", "js"),
    ("JSCompartment", "js/src/jscompartment.cpp", "js"),
    ("js::CrossCompartmentWrapper", "js/src/jswrapper.cpp", "js"),
    ("js::StackSpace", "js/src/vm/Stack.cpp", "js"),
    ("XPCWrappedNative", "js/xpconnect/src/XPCWrappedNative.cpp", "js"),
    ("nsXPConnect", "js/xpconnect/src/nsXPConnect.cpp", "js"),
    ("nsHttpChannel", "netwerk/protocol/http/nsHttpChannel.cpp", "net"),
    ("nsHttpConnection", "netwerk/protocol/http/nsHttpConnection.cpp", "net"),
    ("nsSocketTransport", "netwerk/base/src/nsSocketTransport2.cpp", "net"),
    ("nsCacheService", "netwerk/cache/nsCacheService.cpp", "cache"),
    ("nsDiskCacheMap", "netwerk/cache/nsDiskCacheMap.cpp", "cache"),
    ("mozilla::net::WebSocketChannel", "netwerk/protocol/websocket/WebSocketChannel.cpp", "net"),
    ("gfxContext", "gfx/thebes/gfxContext.cpp", "gfx"),
    ("gfxFont", "gfx/thebes/gfxFont.cpp", "gfx"),
    ("gfxFontGroup", "gfx/thebes/gfxFont.cpp", "gfx"),
    ("mozilla::layers::LayerManagerD3D10", "gfx/layers/d3d10/LayerManagerD3D10.cpp", "gfx"),
    ("mozilla::layers::BasicLayerManager", "gfx/layers/basic/BasicLayers.cpp", "gfx"),
    ("mozilla::gl::GLContext", "gfx/gl/GLContext.cpp", "gfx"),
    ("mozilla::gfx::DrawTargetD2D", "gfx/2d/DrawTargetD2D.cpp", "gfx"),
    ("imgRequest", "image/src/imgRequest.cpp", "image"),
    ("mozilla::image::RasterImage", "image/src/RasterImage.cpp", "image"),
    ("nsBaseWidget", "widget/xpwidgets/nsBaseWidget.cpp", "layout"),
    ("mozilla::plugins::PluginInstanceParent", "dom/plugins/ipc/PluginInstanceParent.cpp", "plugins"),
    ("mozilla::plugins::PluginModuleParent", "dom/plugins/ipc/PluginModuleParent.cpp", "plugins"),
    ("nsPluginHost", "dom/plugins/base/nsPluginHost.cpp", "plugins"),
    ("nsNPAPIPluginInstance", "dom/plugins/base/nsNPAPIPluginInstance.cpp", "plugins"),
    ("mozilla::storage::Connection", "storage/src/mozStorageConnection.cpp", "storage"),
    ("nsComponentManagerImpl", "xpcom/components/nsComponentManager.cpp", "dom"),
    ("nsCycleCollector", "xpcom/base/nsCycleCollector.cpp", "cc"),
    ("nsTArray_base<nsTArrayDefaultAllocator>", "xpcom/glue/nsTArray-inl.h", "dom"),
    ("nsCOMPtr_base", "xpcom/glue/nsCOMPtr.cpp", "dom"),
    ("nsAString_internal", "xpcom/string/src/nsTSubstring.cpp", "dom"),
    ("nsMsgDBFolder", "mailnews/base/util/nsMsgDBFolder.cpp", "mail"),
    ("nsImapProtocol", "mailnews/imap/src/nsImapProtocol.cpp", "mail"),
    ("nsMsgDatabase", "mailnews/db/msgdb/src/nsMsgDatabase.cpp", "mail"),
    ("mozilla::a11y::Accessible", "accessible/src/generic/Accessible.cpp", "dom"),
    ("nsAccessibilityService", "accessible/src/base/nsAccessibilityService.cpp", "dom"),
]

METHODS = [
    "Init", "Destroy", "Reflow", "BuildDisplayList", "HandleEvent", "AttributeChanged",
    "ContentInserted", "ContentRemoved", "ContentAppended", "GetPrimaryFrame",
    "FlushPendingNotifications", "ProcessRestyledFrames", "RecreateFramesForContent", "Paint",
    "Draw", "Notify", "OnStopRequest", "OnDataAvailable", "AsyncOpen", "Run", "Release",
    "AddRef", "QueryInterface", "SetAttr", "UnbindFromTree", "BindToTree", "InvalidateFrame",
    "UpdateOverflow", "Compile", "Trace", "markChildren", "processMarkStackTop", "finalize",
    "sweep", "EnsureCapacity", "ShiftData", "Append", "Assign", "Replace", "GetFontGroup",
    "ShapeText", "SetPosition", "DidReflow", "ScrollToPosition", "FireEvent", "DispatchEvent",
    "Instantiate", "StopPluginInstance", "ExecuteSimpleSQL", "Close", "Shutdown", "Collect",
    "Suspect", "WriteSegments", "ReadSegments", "OnSocketReady", "DeleteMessages",
    "UpdateFolder", "LoadURI", "GetRect", "RemoveChild", "Clone", "Resize", "Lookup",
]

ARGUMENTS = [
    "(nsIContent*)", "(nsIFrame*, unsigned int)", "(JSContext*, JSObject*)", "(nsAString_internal const&)",
    "(int, int)", "(unsigned int, unsigned int, unsigned int, unsigned int)",
    "(mozilla::dom::Element*, int, nsIAtom*, int)", "()", "(bool)", "(nsPresContext*, nsHTMLReflowMetrics&, nsHTMLReflowState const&, unsigned int&)",
]

# Standalone C/C++ functions usable as top frames: (function, module_key, file).
FUNCTIONS = [
    ("js_GetGCThingTraceKind", "js", "js/src/jsgc.cpp"),
    ("JS_TraceChildren", "js", "js/src/jsapi.cpp"),
    ("js::MarkObjectUnbarriered", "js", "js/src/gc/Marking.cpp"),
    ("js::Interpret(JSContext*, js::StackFrame*, js::InterpMode)", "js", "js/src/jsinterp.cpp"),
    ("js::mjit::EnterMethodJIT(JSContext*, js::StackFrame*, void*, JS::Value*, bool)", "js", "js/src/methodjit/MethodJIT.cpp"),
    ("NS_GetCurrentThread_P", "xul", "xpcom/glue/nsThreadUtils.cpp"),
    ("nsContentUtils::ContentIsDescendantOf(nsINode const*, nsINode const*)", "xul", "content/base/src/nsContentUtils.cpp"),
    ("XPC_WN_Helper_NewResolve", "xul", "js/xpconnect/src/XPCWrappedNativeJSOps.cpp"),
    ("PR_GetThreadPrivate", "nspr", "nsprpub/pr/src/threads/prtpd.c"),
    ("PR_Write", "nspr", "nsprpub/pr/src/io/priometh.c"),
    ("sqlite3VdbeExec", "xul", "db/sqlite3/src/sqlite3.c"),
    ("cairo_surface_destroy", "xul", "gfx/cairo/cairo/src/cairo-surface.c"),
    ("gfxSkipCharsIterator::SetOffsets(unsigned int, bool)", "xul", "gfx/thebes/gfxSkipChars.cpp"),
    ("ots::ots_cmap_parse(ots::OpenTypeFile*, unsigned char const*, unsigned int)", "xul", "gfx/ots/src/cmap.cc"),
]

# Frames that never make a signature on their own: Socorro appends the next frame.
NULL_FRAME = ("@0x0", "", "")  # a jump to address 0
PREFIX_FRAMES = [
    ("memcpy", "libc", ""),
    ("memmove", "libc", ""),
    ("strlen", "libc", ""),
    ("arena_dalloc_small", "mozglue", "memory/jemalloc/jemalloc.c"),
    ("je_free", "mozglue", "memory/jemalloc/jemalloc.c"),
    ("moz_xmalloc", "mozalloc", "memory/mozalloc/mozalloc.cpp"),
    ("mozalloc_abort(char const* const)", "mozalloc", "memory/mozalloc/mozalloc_abort.cpp"),
    ("mozalloc_handle_oom(unsigned int)", "mozalloc", "memory/mozalloc/mozalloc_oom.cpp"),
    ("NS_DebugBreak_P", "xul", "xpcom/base/nsDebugImpl.cpp"),
    ("PR_Lock", "nspr", "nsprpub/pr/src/threads/combined/prulock.c"),
    ("JS_Assert", "js", "js/src/jsutil.cpp"),
    NULL_FRAME,
]
OS_PREFIX_FRAMES = {
    "windows": [("RtlEnterCriticalSection", "ntdll.dll", ""), ("RtlpWaitOnCriticalSection", "ntdll.dll", ""),
                ("KiFastSystemCallRet", "ntdll.dll", ""), ("NtWaitForSingleObject", "ntdll.dll", ""),
                ("WaitForSingleObjectEx", "kernel32.dll", ""), ("WaitForSingleObject", "kernel32.dll", ""),
                ("_purecall", "msvcr100.dll", "f:\\dd\\vctools\\crt_bld\\self_x86\\crt\\src\\purevirt.c")],
    "mac": [("objc_msgSend", "libobjc.A.dylib", ""), ("CFRelease", "CoreFoundation", ""),
            ("__pthread_kill", "libsystem_kernel.dylib", "")],
    "linux": [("raise", "libc.so.6", ""), ("pthread_mutex_lock", "libpthread.so.0", ""),
              ("g_type_check_instance_cast", "libgobject-2.0.so.0", "")],
    "android": [("__libc_android_abort", "libc.so", ""), ("dvmAbort", "libdvm.so", "")],
}
PREFIX_FUNCTIONS = frozenset(f for f, _, _ in PREFIX_FRAMES) | frozenset(
    f for frames in OS_PREFIX_FRAMES.values() for f, _, _ in frames)

# OS-only top frames: symbolicated system/UI functions, or modules without symbols
# (written ``module@0x...`` with a per-template offset).
OS_TOP_FRAMES = {
    "windows": [("GetWindowLongW", "user32.dll", ""), ("DispatchMessageW", "user32.dll", ""),
                ("D3D10CreateDevice1", "d3d10_1.dll", "")],
    "mac": [("-[NSView _drawRect:clip:]", "AppKit", ""), ("-[ChildView drawRect:inContext:]", "xul", "widget/cocoa/nsChildView.mm"),
            ("gleRunVertexSubmitImmediate", "GLEngine", ""), ("__CFRunLoopRun", "CoreFoundation", ""),
            ("CGContextDrawImage", "CoreGraphics", "")],
    "linux": [("gdk_window_get_toplevel", "libgdk-x11-2.0.so.0", ""), ("XQueryExtension", "libX11.so.6", ""),
              ("gtk_widget_destroy", "libgtk-x11-2.0.so.0", "")],
    "android": [("Java_org_mozilla_gecko_GeckoAppShell_notifyGeckoOfEvent", "xul", "widget/android/AndroidJNI.cpp"),
                ("eglSwapBuffers", "libEGL.so", "")],
}
OS_UNSYMBOLICATED_MODULES = {
    "windows": ["nvwgf2um.dll", "igd10umd32.dll", "atidxx32.dll", "igdumd32.dll", "aticfx32.dll",
                "d3d10warp.dll", "d2d1.dll", "DWrite.dll", "avghooka.dll", "sprotector.dll", "BtMmHook.dll"],
    "mac": ["libsystem_kernel.dylib", "AMDRadeonX3000GLDriver", "GeForceGLDriver", "QuickTime"],
    "linux": ["libc.so.6", "fglrx_dri.so", "nouveau_dri.so", "libpthread.so.0", "libnvidia-glcore.so.304.51"],
    "android": ["libdvm.so", "libc.so", "libGLESv2_adreno200.so", "libEGL_mali.so", "libmozglue.so"],
}

# Signatures with characters that break naive URL, SQL, JSON and CSV handling; each is
# ``" | "``-joined frame functions whose leading parts are prefix frames.
TRICKY_SIGNATURES = [
    "operator+(nsAString_internal const&, nsAString_internal const&)",
    "js::ion::MacroAssembler/callWithABI",
    "NS_DebugBreak_P | nsCString::AppendPrintf(\"%s 100% CPU\")",
    "nsCSSParser::ParseURL('url(\"x\")')",
    "C:\\Windows\\System32\\d3d9.dll@0x1f2e3",
    "Ünïcödé::función(int)",
    "nsURLParser::ParseURL(%2Fencoded%20path?a=1&b=2#frag)",
    "@0x0 | 日本語::関数<char16_t>",
]

# Stack segments below the signature frames, innermost first.
EVENT_LOOP = [
    ("nsThread::ProcessNextEvent(bool, bool*)", "xul", "xpcom/threads/nsThread.cpp"),
    ("NS_ProcessNextEvent_P(nsIThread*, bool)", "xul", "obj-firefox/xpcom/build/nsThreadUtils.cpp"),
    ("mozilla::ipc::MessagePump::Run(base::MessagePump::Delegate*)", "xul", "ipc/glue/MessagePump.cpp"),
    ("MessageLoop::Run()", "xul", "ipc/chromium/src/base/message_loop.cc"),
    ("nsBaseAppShell::Run()", "xul", "widget/xpwidgets/nsBaseAppShell.cpp"),
    ("nsAppStartup::Run()", "xul", "toolkit/components/startup/nsAppStartup.cpp"),
    ("XREMain::XRE_main(int, char**, nsXREAppData const*)", "xul", "toolkit/xre/nsAppRunner.cpp"),
    ("XRE_main", "xul", "toolkit/xre/nsAppRunner.cpp"),
]
CHILD_LOOP = [
    ("MessageLoop::RunInternal()", "xul", "ipc/chromium/src/base/message_loop.cc"),
    ("MessageLoop::RunHandler()", "xul", "ipc/chromium/src/base/message_loop.cc"),
    ("MessageLoop::Run()", "xul", "ipc/chromium/src/base/message_loop.cc"),
    ("XRE_InitChildProcess(int, char**, GeckoProcessType)", "xul", "toolkit/xre/nsEmbedFunctions.cpp"),
    ("content_process_main(int, char**)", "exe", "ipc/app/MozillaRuntimeMain.cpp"),
]
THREAD_LOOP = [
    ("nsThread::ProcessNextEvent(bool, bool*)", "xul", "xpcom/threads/nsThread.cpp"),
    ("NS_ProcessNextEvent_P(nsIThread*, bool)", "xul", "obj-firefox/xpcom/build/nsThreadUtils.cpp"),
    ("nsThread::ThreadFunc(void*)", "xul", "xpcom/threads/nsThread.cpp"),
    ("_PR_NativeRunThread", "nspr", "nsprpub/pr/src/threads/combined/pruthr.c"),
]
TIMER = [
    ("nsTimerImpl::Fire()", "xul", "xpcom/threads/nsTimerImpl.cpp"),
    ("nsTimerEvent::Run()", "xul", "xpcom/threads/nsTimerImpl.cpp"),
]
REFRESH = [
    ("nsRefreshDriver::Notify(nsITimer*)", "xul", "layout/base/nsRefreshDriver.cpp"),
    ("PresShell::WillPaint(bool)", "xul", "layout/base/nsPresShell.cpp"),
]
DOM_EVENT = [
    ("nsEventListenerManager::HandleEventInternal(nsPresContext*, nsEvent*, nsIDOMEvent**, nsIDOMEventTarget*, unsigned int, nsEventStatus*, nsCxPusher*)", "xul", "content/events/src/nsEventListenerManager.cpp"),
    ("nsEventDispatcher::Dispatch(nsISupports*, nsPresContext*, nsEvent*, nsIDOMEvent*, nsEventStatus*, nsDispatchingCallback*, nsCOMArray<nsIDOMEventTarget>*)", "xul", "content/events/src/nsEventDispatcher.cpp"),
    ("PresShell::HandleEvent(nsIFrame*, nsGUIEvent*, bool, nsEventStatus*)", "xul", "layout/base/nsPresShell.cpp"),
]
WIDGET = [
    ("nsViewManager::DispatchEvent(nsGUIEvent*, nsIView*, nsEventStatus*)", "xul", "view/src/nsViewManager.cpp"),
    ("nsWindow::DispatchEvent(nsGUIEvent*, nsEventStatus&)", "xul", "widget/windows/nsWindow.cpp"),
    ("nsWindow::WindowProcInternal(HWND__*, unsigned int, unsigned int, long)", "xul", "widget/windows/nsWindow.cpp"),
]
JS_CALL = [
    ("js::InvokeKernel(JSContext*, JS::CallArgs, js::MaybeConstruct)", "js", "js/src/jsinterp.cpp"),
    ("js::Interpret(JSContext*, js::StackFrame*, js::InterpMode)", "js", "js/src/jsinterp.cpp"),
    ("js::Invoke(JSContext*, JS::Value const&, JS::Value const&, unsigned int, JS::Value*, JS::Value*)", "js", "js/src/jsinterp.cpp"),
    ("JS_CallFunctionValue", "js", "js/src/jsapi.cpp"),
    ("nsXPCWrappedJSClass::CallMethod(nsXPCWrappedJS*, unsigned short, XPTMethodDescriptor const*, nsXPTCMiniVariant*)", "xul", "js/xpconnect/src/XPCWrappedJSClass.cpp"),
]
GC = [
    ("js::GCMarker::drainMarkStack(js::SliceBudget&)", "js", "js/src/gc/Marking.cpp"),
    ("Collect", "js", "js/src/jsgc.cpp"),
    ("js::GCSlice(JSRuntime*, js::JSGCInvocationKind, js::gcreason::Reason)", "js", "js/src/jsgc.cpp"),
    ("nsJSContext::GarbageCollectNow(js::gcreason::Reason, nsJSContext::IsIncremental, nsJSContext::IsCompartment, nsJSContext::IsShrinking, long long)", "xul", "dom/base/nsJSEnvironment.cpp"),
    ("GCTimerFired(nsITimer*, void*)", "xul", "dom/base/nsJSEnvironment.cpp"),
]
CC = [
    ("nsCycleCollector::Collect(bool, nsCycleCollectorResults*, unsigned int, nsICycleCollectorListener*)", "xul", "xpcom/base/nsCycleCollector.cpp"),
    ("nsCycleCollector_collect(bool, nsCycleCollectorResults*, nsICycleCollectorListener*)", "xul", "xpcom/base/nsCycleCollector.cpp"),
    ("nsJSContext::CycleCollectNow(nsICycleCollectorListener*, int, bool)", "xul", "dom/base/nsJSEnvironment.cpp"),
    ("CCTimerFired(nsITimer*, void*)", "xul", "dom/base/nsJSEnvironment.cpp"),
]
SOCKET = [
    ("nsSocketTransportService::DoPollIteration(bool)", "xul", "netwerk/base/src/nsSocketTransportService2.cpp"),
    ("nsSocketTransportService::Run()", "xul", "netwerk/base/src/nsSocketTransportService2.cpp"),
]
CACHE = [
    ("nsCacheService::ProcessRequest(nsCacheRequest*, bool, nsICacheEntryDescriptor**)", "xul", "netwerk/cache/nsCacheService.cpp"),
    ("nsProcessRequestEvent::Run()", "xul", "netwerk/cache/nsCacheService.cpp"),
]
STORAGE = [
    ("mozilla::storage::AsyncExecuteStatements::executeAndProcessStatement(sqlite3_stmt*, bool)", "xul", "storage/src/mozStorageAsyncStatementExecution.cpp"),
    ("mozilla::storage::AsyncExecuteStatements::Run()", "xul", "storage/src/mozStorageAsyncStatementExecution.cpp"),
]
IMAGE = [
    ("mozilla::image::RasterImage::DecodeSomeData(unsigned int)", "xul", "image/src/RasterImage.cpp"),
    ("mozilla::image::RasterImage::DecodeWorker::Run()", "xul", "image/src/RasterImage.cpp"),
]
PLUGIN_CHILD = [
    ("mozilla::plugins::PluginInstanceChild::AnswerNPP_HandleEvent(mozilla::plugins::NPRemoteEvent const&, short*)", "xul", "dom/plugins/ipc/PluginInstanceChild.cpp"),
    ("mozilla::plugins::PPluginInstanceChild::OnCallReceived(IPC::Message const&, IPC::Message*&)", "xul", "obj-firefox/ipc/ipdl/PPluginInstanceChild.cpp"),
    ("mozilla::ipc::RPCChannel::DispatchIncall(IPC::Message const&)", "xul", "ipc/glue/RPCChannel.cpp"),
    ("mozilla::ipc::RPCChannel::OnMaybeDequeueOne()", "xul", "ipc/glue/RPCChannel.cpp"),
]

# name -> (segments, thread kind); threads end in the OS thread bottom, "main" in the exe's.
TAILS = {
    "event": ([EVENT_LOOP], "main"),
    "timer": ([TIMER, EVENT_LOOP], "main"),
    "refresh": ([REFRESH, TIMER, EVENT_LOOP], "main"),
    "dom_event": ([DOM_EVENT, WIDGET, EVENT_LOOP], "main"),
    "js": ([JS_CALL, DOM_EVENT, EVENT_LOOP], "main"),
    "js_timer": ([JS_CALL, TIMER, EVENT_LOOP], "main"),
    "gc": ([GC, TIMER, EVENT_LOOP], "main"),
    "cc": ([CC, TIMER, EVENT_LOOP], "main"),
    "image": ([IMAGE, EVENT_LOOP], "main"),
    "socket": ([SOCKET, THREAD_LOOP], "thread"),
    "cache": ([CACHE, THREAD_LOOP], "thread"),
    "storage": ([STORAGE, THREAD_LOOP], "thread"),
    "plugin_child": ([PLUGIN_CHILD, CHILD_LOOP], "main"),
}
TAILS_BY_AREA = {
    "layout": ["refresh", "dom_event", "js", "event"],
    "dom": ["js", "dom_event", "js_timer", "event"],
    "js": ["gc", "js", "js_timer", "cc"],
    "cc": ["cc", "event"],
    "net": ["socket", "event"],
    "cache": ["cache", "event"],
    "storage": ["storage", "js"],
    "gfx": ["refresh", "event", "image"],
    "image": ["image", "refresh"],
    "plugins": ["js", "dom_event", "event"],
    "mail": ["event", "js", "timer"],
    "os": ["event", "dom_event", "refresh", "timer"],
}

OS_BOTTOMS = {
    ("windows", "main"): [
        ("wmain", "exe", "toolkit/xre/nsWindowsWMain.cpp"),
        ("__tmainCRTStartup", "exe", "f:\\dd\\vctools\\crt_bld\\self_x86\\crt\\src\\crtexe.c"),
        ("BaseThreadInitThunk", "kernel32.dll", ""), ("_RtlUserThreadStart", "ntdll.dll", "")],
    ("windows", "thread"): [
        ("pr_root", "nspr", "nsprpub/pr/src/md/windows/w95thred.c"),
        ("_callthreadstartex", "msvcr100.dll", "f:\\dd\\vctools\\crt_bld\\self_x86\\crt\\src\\threadex.c"),
        ("_threadstartex", "msvcr100.dll", "f:\\dd\\vctools\\crt_bld\\self_x86\\crt\\src\\threadex.c"),
        ("BaseThreadInitThunk", "kernel32.dll", ""), ("_RtlUserThreadStart", "ntdll.dll", "")],
    ("mac", "main"): [("main", "exe", "browser/app/nsBrowserApp.cpp"), ("start", "exe", "")],
    ("mac", "thread"): [("_pt_root", "nspr", "nsprpub/pr/src/pthreads/ptthread.c"),
                        ("_pthread_start", "libsystem_c.dylib", ""), ("thread_start", "libsystem_c.dylib", "")],
    ("linux", "main"): [("do_main", "exe", "browser/app/nsBrowserApp.cpp"), ("main", "exe", "browser/app/nsBrowserApp.cpp"),
                        ("__libc_start_main", "libc.so.6", ""), ("_start", "exe", "")],
    ("linux", "thread"): [("_pt_root", "nspr", "nsprpub/pr/src/pthreads/ptthread.c"),
                          ("start_thread", "libpthread.so.0", ""), ("clone", "libc.so.6", "")],
    ("android", "main"): [
        ("Java_org_mozilla_gecko_GeckoAppShell_nativeRun", "xul", "toolkit/xre/nsAndroidStartup.cpp"),
        ("dvmPlatformInvoke", "libdvm.so", ""),
        ("dvmCallJNIMethod(unsigned int const*, JValue*, Method const*, Thread*)", "libdvm.so", ""),
        ("libdvm.so@0x1e874", "libdvm.so", "")],
    ("android", "thread"): [("_pt_root", "nspr", "nsprpub/pr/src/pthreads/ptthread.c"),
                            ("__thread_entry", "libc.so", ""), ("pthread_create", "libc.so", "")],
}

# Top frames of the browser side of a plugin hang (Windows); each yields one hang signature.
HANG_BROWSER_HEADS = [
    [("KiFastSystemCallRet", "ntdll.dll", ""), ("NtWaitForSingleObject", "ntdll.dll", ""),
     ("WaitForSingleObjectEx", "kernel32.dll", ""), ("WaitForSingleObject", "kernel32.dll", ""),
     ("base::WaitableEvent::TimedWait(base::TimeDelta const&)", "xul", "ipc/chromium/src/base/waitable_event_win.cc")],
    [("mozilla::plugins::PPluginInstanceParent::CallNPP_HandleEvent(mozilla::plugins::NPRemoteEvent const&, short*)", "xul", "obj-firefox/ipc/ipdl/PPluginInstanceParent.cpp")],
    [("mozilla::ipc::RPCChannel::Call(IPC::Message*, IPC::Message*)", "xul", "ipc/glue/RPCChannel.cpp")],
    [("NtUserWaitMessage", "user32.dll", ""), ("nsAppShell::ProcessNextNativeEvent(bool)", "xul", "widget/windows/nsAppShell.cpp")],
    [("mozilla::plugins::PPluginScriptableObjectParent::CallInvoke(nsCString const&, InfallibleTArray<mozilla::plugins::Variant> const&, mozilla::plugins::Variant*, bool*)", "xul", "obj-firefox/ipc/ipdl/PPluginScriptableObjectParent.cpp")],
    [("NtUserPeekMessage", "user32.dll", ""), ("PeekMessageW", "user32.dll", ""),
     ("nsAppShell::ProcessNextNativeEvent(bool)", "xul", "widget/windows/nsAppShell.cpp")],
]

# Reason classes and how each OS reports them.
REASONS = {
    "windows": {"read": "EXCEPTION_ACCESS_VIOLATION_READ", "write": "EXCEPTION_ACCESS_VIOLATION_WRITE",
                "exec": "EXCEPTION_ACCESS_VIOLATION_EXEC", "abort": "EXCEPTION_BREAKPOINT",
                "stack": "EXCEPTION_STACK_OVERFLOW", "illegal": "EXCEPTION_ILLEGAL_INSTRUCTION"},
    "mac": {"read": "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS", "write": "EXC_BAD_ACCESS / KERN_PROTECTION_FAILURE",
            "exec": "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS", "abort": "EXC_CRASH / SIGABRT",
            "stack": "EXC_BAD_ACCESS / KERN_PROTECTION_FAILURE", "illegal": "EXC_BAD_INSTRUCTION / EXC_I386_INVOP"},
    "linux": {"read": "SIGSEGV", "write": "SIGSEGV", "exec": "SIGSEGV", "abort": "SIGABRT",
              "stack": "SIGSEGV", "illegal": "SIGILL"},
}
REASONS["android"] = REASONS["linux"]
REASON_KINDS = (("read", 60), ("write", 15), ("abort", 12), ("exec", 6), ("stack", 4), ("illegal", 3))
