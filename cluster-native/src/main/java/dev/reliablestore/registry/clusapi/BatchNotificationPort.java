package dev.reliablestore.registry.clusapi;

import com.sun.jna.ptr.PointerByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.CLUSTER_BATCH_COMMAND;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHNOTIFICATION;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HREGBATCHPORT;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A batch notification port on a key: {@link #next()} blocks until batches at or below the key
 * have committed and returns their mirrored commands; {@link #close()} from another thread ends a
 * blocked {@link #next()} (it then returns what woke it, and the next call throws).
 *
 * <p>The port handle is a client-side pointer, so it is freed only once no call uses it: by
 * {@link #close()} when none does, else by the last call as it returns. A call cannot be told
 * blocked inside ClusterRegGetBatchNotification from one about to enter it, so close() never frees
 * under one (the documented way to wake it, closing the port, would hand a call about to start a
 * freed pointer); it commits a batch at the key instead, which ends the wait — or, the port keeping
 * everything since the last call, the wait about to start.
 */
final class BatchNotificationPort implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(BatchNotificationPort.class);
    /** The bit of {@link #state} set by close(); the bits below count the calls using the port. */
    private static final int CLOSED = 1 << 30;

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
    private final AtomicInteger state = new AtomicInteger();
    /** Commits a batch at the port's key (or below it). */
    private final Runnable wake;

    BatchNotificationPort(ClusApi api, ClusterKey key, Runnable wake) {
        this.api = api;
        this.wake = wake;
        PointerByReference out = new PointerByReference();
        int rc = api.ClusterRegCreateBatchNotifyPort(key.handle(), out);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusterRegCreateBatchNotifyPort", rc, key.path());
        }
        port = new HREGBATCHPORT(out.getValue());
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /** Blocks for the next notification and returns all its commands. */
    List<Command> next() {
        int s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                throw new ClusterApiException("ClusterRegGetBatchNotification", ClusApiTypes.ERROR_INVALID_HANDLE, "port closed");
            }
        } while (!state.compareAndSet(s, s + 1));
        try {
            return nextInUse();
        } finally {
            if (state.decrementAndGet() == CLOSED) {
                free(); // close() ran during the call and left the port to it
            }
        }
    }

    private List<Command> nextInUse() {
        PointerByReference out = new PointerByReference();
        int rc = api.ClusterRegGetBatchNotification(port, out);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            throw new ClusterApiException("ClusterRegGetBatchNotification", rc, isClosed() ? "port closed" : null);
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

    /** Frees the port now if no call uses it, else wakes that call, which frees it as it returns; idempotent. */
    @Override
    public void close() {
        int s = state.getAndUpdate(x -> x | CLOSED);
        if ((s & CLOSED) != 0) {
            return; // two closers (the watch, the registry) free it once
        }
        if (s == 0) {
            free();
            return;
        }
        try {
            wake.run();
        } catch (RuntimeException e) {
            // the cluster is unreachable (most likely while a registry closes for that reason): left to the call, the
            // port could wait for ever and the registry's handles be closed under it, so it is freed as before this
            // port counted its calls, which ends a call blocked in it (only one about to enter could see it freed)
            LOG.warn("could not wake the call waiting on a batch notification port; freeing the port under it", e);
            free();
        }
    }

    private final java.util.concurrent.atomic.AtomicBoolean freed = new java.util.concurrent.atomic.AtomicBoolean();

    private void free() {
        if (freed.compareAndSet(false, true)) { // close after a failed wake, then the call's return: once
            api.ClusterRegCloseBatchNotifyPort(port);
        }
    }
}
