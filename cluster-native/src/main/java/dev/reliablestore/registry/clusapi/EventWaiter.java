package dev.reliablestore.registry.clusapi;

import com.sun.jna.platform.win32.Kernel32;
import com.sun.jna.platform.win32.WinNT;

/**
 * Waits on Win32 event handles, i.e. {@code WaitForMultipleObjects}, and makes the event that
 * ends such a wait at once ({@code CreateEvent}/{@code SetEvent}/{@code CloseHandle}). Injectable
 * so that the notification pump runs against the in-memory fake on any OS.
 */
interface EventWaiter {

    int WAIT_OBJECT_0 = 0;
    int WAIT_TIMEOUT = 258;

    /**
     * {@code WaitForMultipleObjects(handles.length, handles, bWaitAll = FALSE, millis)}.
     *
     * @return {@link #WAIT_OBJECT_0} + the lowest index of a signalled handle, {@link #WAIT_TIMEOUT} after {@code millis},
     *         or another code on error
     */
    int waitForAny(WinNT.HANDLE[] handles, int millis);

    /** {@code CreateEvent(NULL, bManualReset = TRUE, bInitialState = FALSE, NULL)}: a new event, not signalled; null on failure. */
    WinNT.HANDLE createEvent();

    /** {@code SetEvent}: signals an event from {@link #createEvent()} (it stays signalled); false on failure. */
    boolean setEvent(WinNT.HANDLE event);

    /** {@code CloseHandle} of an event from {@link #createEvent()}. */
    void closeEvent(WinNT.HANDLE event);

    /** kernel32's functions (loads kernel32 on first use; Windows only). */
    static EventWaiter kernel32() {
        return new EventWaiter() {
            @Override
            public int waitForAny(WinNT.HANDLE[] handles, int millis) {
                return Kernel32.INSTANCE.WaitForMultipleObjects(handles.length, handles, false, millis);
            }

            @Override
            public WinNT.HANDLE createEvent() {
                return Kernel32.INSTANCE.CreateEvent(null, true, false, null);
            }

            @Override
            public boolean setEvent(WinNT.HANDLE event) {
                return Kernel32.INSTANCE.SetEvent(event);
            }

            @Override
            public void closeEvent(WinNT.HANDLE event) {
                Kernel32.INSTANCE.CloseHandle(event);
            }
        };
    }
}
