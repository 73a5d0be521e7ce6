package dev.reliablestore.registry.clusapi;

import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinNT;

/**
 * Waits on a Win32 event handle, i.e. {@code WaitForSingleObject}. Injectable so that the
 * notification pump runs against the in-memory fake on any OS.
 */
@FunctionalInterface
interface EventWaiter {

    int WAIT_OBJECT_0 = 0;
    int WAIT_TIMEOUT = 258;

    /** @return {@link #WAIT_OBJECT_0} when signalled, {@link #WAIT_TIMEOUT} after {@code millis}, or another code on error */
    int waitForSingleObject(WinNT.HANDLE handle, int millis);

    /** kernel32's {@code WaitForSingleObject} (loads kernel32 on first use; Windows only). */
    static EventWaiter kernel32() {
        return (h, ms) -> Kernel32.INSTANCE.WaitForSingleObject(h, ms);
    }
}
