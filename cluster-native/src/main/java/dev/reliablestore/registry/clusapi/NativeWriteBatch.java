package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCH;

/**
 * A cluster-registry write batch ({@code ClusterRegCreateBatch} / {@code BatchAddCommand} /
 * {@code CloseBatch}). Every command is relative to the batch's key. Closing without
 * {@link #commit} discards it.
 */
final class NativeWriteBatch implements AutoCloseable {

    /**
     * The outcome of a commit.
     *
     * @param code                the Win32 code {@code ClusterRegCloseBatch} returned
     * @param failedCommandNumber the number it reported for the failed command, as returned (base not normalised)
     */
    record Outcome(int code, int failedCommandNumber) {
        boolean succeeded() {
            return code == ClusApiTypes.ERROR_SUCCESS;
        }
    }

    private final ClusApi api;
    private HREGBATCH handle;

    NativeWriteBatch(ClusApi api, ClusterKey key) {
        this.api = api;
        PointerByReference out = new PointerByReference();
        int rc = api.ClusterRegCreateBatch(key.handle(), out);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusterRegCreateBatch", rc, key.path());
        }
        this.handle = new HREGBATCH(out.getValue());
    }

    void add(int command, String name, int options, byte[] data) {
        int rc = api.ClusterRegBatchAddCommand(live(), command, name, options, data, data == null ? 0 : data.length);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusterRegBatchAddCommand", rc, "command " + command);
        }
    }

    /** Sends the batch ({@code ClusterRegCloseBatch(TRUE)}); the handle is gone afterwards, whatever the outcome. */
    Outcome commit() {
        IntByReference failed = new IntByReference(-1);
        HREGBATCH h = live();
        handle = null;
        int rc = api.ClusterRegCloseBatch(h, true, failed);
        return new Outcome(rc, failed.getValue());
    }

    /** Sends the batch with {@code ClusterRegCloseBatchEx(flags)} (flags are undocumented; see docs/windows.md). */
    Outcome commitEx(int flags) {
        IntByReference failed = new IntByReference(-1);
        HREGBATCH h = live();
        handle = null;
        int rc = api.ClusterRegCloseBatchEx(h, flags, failed);
        return new Outcome(rc, failed.getValue());
    }

    private HREGBATCH live() {
        if (handle == null) {
            throw new IllegalStateException("batch already closed");
        }
        return handle;
    }

    /** Discards the batch if it was not committed. */
    @Override
    public void close() {
        if (handle != null) {
            HREGBATCH h = handle;
            handle = null;
            api.ClusterRegCloseBatch(h, false, null);
        }
    }
}
