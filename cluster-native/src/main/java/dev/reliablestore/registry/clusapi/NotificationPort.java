package dev.reliablestore.registry.clusapi;

import com.sun.jna.Native;
import com.sun.jna.platform.win32.BaseTSD;
import com.sun.jna.platform.win32.WinNT;
import com.sun.jna.ptr.IntByReference;
import dev.reliablestore.registry.clusapi.jna.ClusApi;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.HCHANGE;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes.NOTIFY_FILTER_AND_TYPE;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * A V2 cluster notification port with a background thread: the thread waits on the port's event
 * handle ({@code GetNotifyEventHandle}) and on a stop event of its own ({@code WaitForMultipleObjects}),
 * drains the port with {@code GetClusterNotifyV2(…, 0)} and hands every event to the consumer, in
 * order, on that one thread, from {@link #start()} on (events queued before wait in the port).
 * {@link #close()} sets the stop event, which ends the thread's wait at once, waits for the thread
 * and only then closes the port (the thread never calls it with a freed handle).
 */
final class NotificationPort implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(NotificationPort.class);

    /**
     * How long one wait lasts before the thread re-checks whether it was closed: a bound should setting
     * the stop event fail (close() sets it, which ends the wait at once).
     */
    static final int POLL_MILLIS = 200;

    private final ClusApi api;
    private final HCHANGE port;
    private final WinNT.HANDLE event;
    /** Set by {@link #close()}: ends the thread's wait at once. */
    private final WinNT.HANDLE stop;
    private final EventWaiter waiter;
    private final Thread thread;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * Opens a port on {@code cluster} for the given (object type, V2 flags) filters; {@link #start()} starts the thread.
     *
     * @param onEvent   called for each event
     * @param onBatchEnd called after each drained batch of events (e.g. to re-query state once)
     */
    NotificationPort(Cluster cluster, List<long[]> filters, EventWaiter waiter, Consumer<ClusterEvent> onEvent,
                     Runnable onBatchEnd, String threadName) {
        this.api = cluster.api();
        this.waiter = waiter;
        NOTIFY_FILTER_AND_TYPE[] array = (NOTIFY_FILTER_AND_TYPE[]) new NOTIFY_FILTER_AND_TYPE().toArray(filters.size());
        for (int i = 0; i < filters.size(); i++) {
            array[i].dwObjectType = (int) filters.get(i)[0];
            array[i].FilterFlags = filters.get(i)[1];
            array[i].write();
        }
        HCHANGE p = api.CreateClusterNotifyPortV2(ClusApiTypes.invalidHChange(), cluster.handle(), array[0], filters.size(),
                new BaseTSD.DWORD_PTR(0));
        if (p == null) {
            throw new ClusterApiException("CreateClusterNotifyPortV2", Native.getLastError());
        }
        this.port = p;
        WinNT.HANDLEByReference ev = new WinNT.HANDLEByReference();
        int rc = api.GetNotifyEventHandle(port, ev);
        if (rc != ClusApiTypes.ERROR_SUCCESS) {
            api.CloseClusterNotifyPort(port);
            throw new ClusterApiException("GetNotifyEventHandle", rc);
        }
        this.event = ev.getValue();
        WinNT.HANDLE s = waiter.createEvent();
        if (s == null) {
            int error = Native.getLastError();
            api.CloseClusterNotifyPort(port);
            throw new ClusterApiException("CreateEvent", error);
        }
        this.stop = s;
        this.thread = new Thread(() -> run(onEvent, onBatchEnd), threadName);
        thread.setDaemon(true);
    }

    /** Starts handing events to the consumer, those queued since the port was opened first. */
    void start() {
        thread.start();
    }

    private boolean closed() {
        return closed.get();
    }

    private void run(Consumer<ClusterEvent> onEvent, Runnable onBatchEnd) {
        WinNT.HANDLE[] handles = {event, stop};
        while (!closed()) {
            int w = waiter.waitForAny(handles, POLL_MILLIS);
            if (closed()) {
                return;
            }
            if (w == EventWaiter.WAIT_TIMEOUT) {
                continue;
            }
            if (w != EventWaiter.WAIT_OBJECT_0) { // WAIT_OBJECT_0 + 1, the stop event, is set only once closed() holds
                LOG.warn("waiting on the cluster notification event failed with {}; stopping", w);
                return;
            }
            try {
                boolean any = false;
                for (Optional<ClusterEvent> e = poll(); e.isPresent() && !closed(); e = poll()) {
                    any = true;
                    onEvent.accept(e.get());
                }
                if (any && !closed()) {
                    onBatchEnd.run();
                }
            } catch (RuntimeException e) {
                if (!closed()) {
                    LOG.warn("cluster notification handling failed", e);
                }
            }
        }
    }

    /** The next queued event, without waiting. */
    Optional<ClusterEvent> poll() {
        BaseTSD.ULONG_PTRByReference key = new BaseTSD.ULONG_PTRByReference();
        NOTIFY_FILTER_AND_TYPE ft = new NOTIFY_FILTER_AND_TYPE();
        byte[] buffer = new byte[4096];
        char[] id = new char[256];
        char[] parent = new char[256];
        char[] name = new char[256];
        char[] type = new char[256];
        while (true) {
            IntByReference cb = new IntByReference(buffer.length);
            IntByReference cId = new IntByReference(id.length);
            IntByReference cParent = new IntByReference(parent.length);
            IntByReference cName = new IntByReference(name.length);
            IntByReference cType = new IntByReference(type.length);
            int rc = api.GetClusterNotifyV2(port, key, ft, buffer, cb, id, cId, parent, cParent, name, cName, type, cType, 0);
            if (rc == ClusApiTypes.WAIT_TIMEOUT || rc == ClusApiTypes.ERROR_NO_MORE_ITEMS) {
                return Optional.empty();
            }
            if (rc == ClusApiTypes.ERROR_MORE_DATA) {
                buffer = new byte[Buffers.grow(buffer.length, cb.getValue(), Buffers.MAX_BYTES, "GetClusterNotifyV2")];
                id = new char[Buffers.grow(id.length, cId.getValue() + 1, Buffers.MAX_CHARS, "GetClusterNotifyV2")];
                parent = new char[Buffers.grow(parent.length, cParent.getValue() + 1, Buffers.MAX_CHARS, "GetClusterNotifyV2")];
                name = new char[Buffers.grow(name.length, cName.getValue() + 1, Buffers.MAX_CHARS, "GetClusterNotifyV2")];
                type = new char[Buffers.grow(type.length, cType.getValue() + 1, Buffers.MAX_CHARS, "GetClusterNotifyV2")];
                continue;
            }
            if (rc != ClusApiTypes.ERROR_SUCCESS) {
                throw new ClusterApiException("GetClusterNotifyV2", rc);
            }
            return Optional.of(new ClusterEvent(key.getValue().longValue(), ft.dwObjectType, ft.FilterFlags,
                    Utf16.fromChars(id, cId.getValue()), Utf16.fromChars(parent, cParent.getValue()),
                    Utf16.fromChars(name, cName.getValue()), Utf16.fromChars(type, cType.getValue()),
                    java.util.Arrays.copyOf(buffer, Math.min(cb.getValue(), buffer.length))));
        }
    }

    /** Stops the thread and closes the port; idempotent. Waits for the thread unless called from it. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // two closers (the monitor, the registry) close the port once
        }
        if (!waiter.setEvent(stop)) {
            LOG.warn("could not set the stop event of {}; its thread stops within {} ms", thread.getName(), POLL_MILLIS);
        }
        if (Thread.currentThread() != thread) {
            try {
                thread.join(10L * POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        api.CloseClusterNotifyPort(port);
        waiter.closeEvent(stop);
    }
}
