package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHNOTIFICATION;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHPORT;

import java.util.ArrayList;
import java.util.List;

/**
 * A batch notification port on a key: {@link #next()} blocks until batches at or below the key
 * have committed and returns their mirrored commands; {@link #close()} from another thread ends a
 * blocked {@link #next()} (it then throws).
 */
final class BatchNotificationPort implements AutoCloseable {

    /**
     * One mirrored command.
     *
     * @param command  a {@code CLUSREG_*} command ({@code SET_VALUE}, {@code CREATE_KEY}, {@code DELETE_KEY},
     *                 {@code DELETE_VALUE}, {@code VALUE_DELETED})
     * @param options  the REG type for value commands
     * @param name     the key path or value name
     * @param data     the value bytes (the old bytes for VALUE_DELETED / DELETE_VALUE)
     */
    record Command(int command, int options, String name, byte[] data) {
    }

    private final ClusApi api;
    private final HREGBATCHPORT port;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    BatchNotificationPort(ClusApi api, ClusterKey key) {
        this.api = api;
        PointerByReference out = new PointerByReference();
        int rc = api.ClusterRegCreateBatchNotifyPort(key.handle(), out);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusterRegCreateBatchNotifyPort", rc, key.path());
        }
        port = new HREGBATCHPORT(out.getValue());
    }

    boolean isClosed() {
        return closed.get();
    }

    /** Blocks for the next notification and returns all its commands. */
    List<Command> next() {
        if (closed.get()) {
            throw new ClusterApiException("ClusterRegGetBatchNotification", ClusApiTypes.ERROR_INVALID_HANDLE, "port closed");
        }
        PointerByReference out = new PointerByReference();
        int rc = api.ClusterRegGetBatchNotification(port, out);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusterRegGetBatchNotification", rc, closed.get() ? "port closed" : null);
        }
        HREGBATCHNOTIFICATION n = new HREGBATCHNOTIFICATION(out.getValue());
        try {
            List<Command> commands = new ArrayList<>();
            while (true) {
                CLUSTER_BATCH_COMMAND c = new CLUSTER_BATCH_COMMAND();
                int r = api.ClusterRegBatchReadCommand(n, c);
                if (r == ClusApiTypes.ERROR_NO_MORE_ITEMS) {
                    return commands;
                }
                if (r != ClusApiTypes.ERROR_SUCCESS) {
                    throw new ClusterApiException("ClusterRegBatchReadCommand", r);
                }
                commands.add(new Command(c.Command, c.dwOptions, Utf16.fromNative(c.wzName), Utf16.bytes(c.lpData, c.cbData)));
            }
        } finally {
            api.ClusterRegBatchCloseNotification(n);
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) { // two closers (the watch, the registry) free it once
            api.ClusterRegCloseBatchNotifyPort(port);
        }
    }
}
