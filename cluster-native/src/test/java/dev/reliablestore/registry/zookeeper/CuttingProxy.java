package dev.reliablestore.registry.zookeeper;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy in front of a ZooKeeper server that can cut the connection at a chosen
 * moment: before the next request reaches the server, or after the server has processed it but
 * before its answer reaches the client. That is exactly the ambiguous connection loss a client
 * must handle (CURATOR-268).
 */
public final class CuttingProxy implements AutoCloseable {

    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicBoolean cutBeforeRequest = new AtomicBoolean();
    private final AtomicBoolean cutBeforeAnswer = new AtomicBoolean();
    private final AtomicInteger cuts = new AtomicInteger();
    private volatile boolean refusing;
    private volatile int largeRequestBytes;
    private volatile boolean deliverLargeRequest;
    private volatile boolean closed;
    private final Thread acceptor;

    public CuttingProxy(int targetPort) throws IOException {
        this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.acceptor = new Thread(this::accept, "cutting-proxy-accept");
        this.acceptor.setDaemon(true);
        this.acceptor.start();
    }

    public String connectString() {
        return "127.0.0.1:" + listener.getLocalPort();
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

    private void accept() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                if (refusing) {
                    client.close();
                    continue;
                }
                Socket server = new Socket();
                server.connect(target, 2000);
                sockets.add(client);
                sockets.add(server);
                pump(client, server, true);
                pump(server, client, false);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
            }
        }
    }

    private void pump(Socket from, Socket to, boolean clientToServer) {
        String name = clientToServer ? "c2s" : "s2c";
        Thread t = new Thread(() -> {
            byte[] buf = new byte[64 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (clientToServer && n >= largeRequestBytes && cutBeforeRequest.compareAndSet(true, false)) {
                        if (deliverLargeRequest) {
                            cutBeforeAnswer.set(true);
                        } else {
                            cuts.incrementAndGet();
                            cutAll();
                            return;
                        }
                    } else if (!clientToServer && cutBeforeAnswer.compareAndSet(true, false)) {
                        cuts.incrementAndGet();
                        cutAll();
                        return;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException ignored) {
                // the other side closed
            } finally {
                closeQuietly(from);
                closeQuietly(to);
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
