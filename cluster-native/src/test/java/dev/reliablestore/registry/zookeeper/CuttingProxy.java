package dev.reliablestore.registry.zookeeper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A loopback TCP proxy in front of a ZooKeeper server that can cut the connection at a chosen
 * moment: before the next request reaches the server, or after the server has processed it but
 * before its answer reaches the client. That is exactly the ambiguous connection loss a client
 * must handle (CURATOR-268). It can also {@link #partition(boolean) partition} the client from the
 * server silently, as a network partition does: nothing crosses in either direction, not even a
 * close, so each side finds out only by its own timeouts.
 */
public final class CuttingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cutBeforeRequest = new AtomicBoolean();
    private final AtomicBoolean cutBeforeAnswer = new AtomicBoolean();
    private final AtomicBoolean cutBeforeLargeAnswer = new AtomicBoolean();
    private volatile int largeAnswerBytes = Integer.MAX_VALUE;
    private final AtomicInteger cuts = new AtomicInteger();
    private volatile boolean refusing;
    private volatile boolean partitioned;
    /** The connections that were open when the partition began, with whether the server has closed each since. */
    private final List<Connection> acrossPartition = new CopyOnWriteArrayList<>();
    private final List<Connection> connections = new CopyOnWriteArrayList<>();
    private volatile int largeRequestBytes;
    private volatile boolean deliverLargeRequest;
    private volatile Predicate<byte[]> cutAfterRequest;
    private volatile boolean closed;
    private volatile ByteArrayOutputStream captured;
    private final Thread acceptor;

    public CuttingProxy(int targetPort) throws IOException {
        this(targetPort, InetAddress.getLoopbackAddress());
    }

    /** Listening on {@code listenOn} (e.g. 127.0.0.2, an address a server certificate does not name), forwarding to the loopback port. */
    public CuttingProxy(int targetPort, InetAddress listenOn) throws IOException {
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.listener = new ServerSocket(0, 50, listenOn);
        this.acceptor = new Thread(this::accept, "cutting-proxy-accept");
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    public String connectString() {
        return listener.getInetAddress().getHostAddress() + ":" + listener.getLocalPort();
    }

    /** From now on, every byte forwarded in either direction is also kept, for {@link #captured()}. */
    public void capture() {
        captured = new ByteArrayOutputStream();
    }

    /** What crossed since {@link #capture()}, both directions interleaved as forwarded: what an eavesdropper on the wire sees. */
    public byte[] captured() {
        ByteArrayOutputStream c = captured;
        synchronized (c) {
            return c.toByteArray();
        }
    }

    /**
     * Arms a cut around the next request of at least {@code minBytes} (a multi carrying a large
     * value; reads and pings are small). With {@code deliver} the request reaches the server and
     * the connection is cut before the server's next bytes (its answer, or the watch event the
     * batch triggers) reach the client; without, the request is dropped and the connection cut.
     */
    public void cutAtNextLargeRequest(int minBytes, boolean deliver) {
        largeRequestBytes = minBytes;
        deliverLargeRequest = deliver;
        cutBeforeRequest.set(true);
    }

    /**
     * Arms a cut after the next request whose bytes (as read in one piece from the client) match:
     * it reaches the server, and the connection is cut before the server's next bytes reach the
     * client. For small requests, which {@link #cutAtNextLargeRequest} cannot tell apart.
     */
    public void cutAfterNextRequest(Predicate<byte[]> request) {
        cutAfterRequest = request;
    }

    /**
     * Arms a cut before the next server-to-client bytes of at least {@code minBytes} (the answer to a
     * read of a large value; other answers and events are small): that answer never reaches the client.
     */
    public void cutAtNextLargeAnswer(int minBytes) {
        largeAnswerBytes = minBytes;
        cutBeforeLargeAnswer.set(true);
    }

    /** While true, new connections are closed at once (the server looks unreachable). */
    public void refuse(boolean refuse) {
        this.refusing = refuse;
        if (refuse) {
            cutAll();
        }
    }

    public int cuts() {
        return cuts.get();
    }

    /**
     * Starts ({@code true}) or heals ({@code false}) a silent partition. While it lasts, bytes in both
     * directions are dropped, a side that closes its end is not seen by the other, and a new connection
     * is accepted (the client's connect succeeds, as it would to a server's backlog) but never reaches
     * the server. Healing cuts every connection that existed during the partition, as TCP does once a
     * partition has outlasted its retransmissions: bytes were dropped, so none of them may carry on.
     * New connections after healing reach the server again.
     */
    public synchronized void partition(boolean partition) {
        if (partition) {
            acrossPartition.clear();
            acrossPartition.addAll(connections);
            partitioned = true;
        } else {
            partitioned = false;
            cutAll();
        }
    }

    /**
     * Whether the server has closed its end of every connection that was open when the partition
     * began. For ZooKeeper that is proof the partition outlasted the sessions: a server closes a
     * session's connection when it expires the session (the client's own close does not cross).
     */
    public boolean serverClosedEveryConnectionAcrossPartition() {
        return !acrossPartition.isEmpty() && acrossPartition.stream().allMatch(c -> c.serverClosed);
    }

    /** One proxied connection: the client's socket and, unless accepted during a partition, the server's. */
    private static final class Connection {
        final Socket client;
        final Socket server;
        volatile boolean serverClosed;

        Connection(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                if (refusing) {
                    client.close();
                    continue;
                }
                synchronized (this) {
                    if (partitioned) {
                        // held until healing cuts it: the connect succeeded, nothing will ever answer
                        sockets.add(client);
                        continue;
                    }
                }
                Socket server = new Socket();
                server.connect(target, 2000);
                // small requests and answers must not wait for Nagle's algorithm (40 ms each with delayed acks)
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                Connection c = new Connection(client, server);
                connections.add(c);
                sockets.add(client);
                sockets.add(server);
                pump(c, true);
                pump(c, false);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(Connection c, boolean clientToServer) {
        Socket from = clientToServer ? c.client : c.server;
        Socket to = clientToServer ? c.server : c.client;
        String name = clientToServer ? "c2s" : "s2c";
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (partitioned) {
                        continue;
                    }
                    Predicate<byte[]> after = clientToServer ? cutAfterRequest : null;
                    if (after != null && after.test(Arrays.copyOf(buf, n))) {
                        cutAfterRequest = null;
                        cutBeforeAnswer.set(true);
                    }
                    if (clientToServer && n >= largeRequestBytes && cutBeforeRequest.compareAndSet(true, false)) {
                        if (deliverLargeRequest) {
                            cutBeforeAnswer.set(true);
                        } else {
                            cuts.incrementAndGet();
                            cutAll();
                            return;
                        }
                    } else if (!clientToServer && (cutBeforeAnswer.compareAndSet(true, false)
                            || n >= largeAnswerBytes && cutBeforeLargeAnswer.compareAndSet(true, false))) {
                        cuts.incrementAndGet();
                        cutAll();
                        return;
                    }
                    ByteArrayOutputStream capture = captured;
                    if (capture != null) {
                        synchronized (capture) {
                            capture.write(buf, 0, n);
                        }
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // reset, or closed under us by a cut
            } finally {
                // the end we read from is gone; across a partition the other end must not learn of it
                boolean silently = partitioned;
                if (silently && !clientToServer) {
                    c.serverClosed = true;
                }
                closeQuietly(from);
                if (!silently) {
                    closeQuietly(to);
                    connections.remove(c);
                }
            }
        }, "cutting-proxy-" + name);
        t.setDaemon(true);
        t.start();
    }

    private void cutAll() {
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
        connections.clear();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        listener.close();
        cutAll();
    }
}
