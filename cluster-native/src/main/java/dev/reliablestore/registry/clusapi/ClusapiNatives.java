package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ResUtils;

/**
 * The native entry points the backend uses; the real DLLs on Windows, an in-memory fake in tests.
 *
 * @param clusApi  clusapi.dll
 * @param resUtils resutils.dll (stdcall health-fault functions)
 * @param cdecl    resutils.dll (cdecl helpers)
 * @param waiter   kernel32's event functions ({@code WaitForMultipleObjects}, {@code CreateEvent}, {@code SetEvent})
 */
record ClusapiNatives(ClusApi clusApi, ResUtils resUtils, ResUtils.Cdecl cdecl, EventWaiter waiter) {

    /** The real DLLs (Windows only; loads them). */
    static ClusapiNatives windows() {
        return new ClusapiNatives(ClusApi.instance(), ResUtils.instance(), ResUtils.Cdecl.instance(), EventWaiter.kernel32());
    }
}
