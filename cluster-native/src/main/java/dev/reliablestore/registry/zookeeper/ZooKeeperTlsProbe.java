package dev.reliablestore.registry.zookeeper;

import org.apache.zookeeper.client.ZKClientConfig;
import org.apache.zookeeper.common.ClientX509Util;
import org.apache.zookeeper.common.X509Exception;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateException;
import java.util.StringJoiner;

/**
 * Why a TLS connection to the ensemble failed. ZooKeeper's client only logs a refused handshake and
 * keeps retrying, so opening would end in a bare timeout; after that timeout one handshake per
 * server with the very stores and verification the client uses says whose certificate was refused.
 */
final class ZooKeeperTlsProbe {

    /** At least this long for each step: on a loaded machine a refusal can take longer than a short connectionTimeout. */
    private static final int MIN_WAIT_MS = 3000;

    private ZooKeeperTlsProbe() {
    }

    /** A sentence for the open's exception, or null if every server accepted the handshake (TLS is not the problem). */
    static String diagnose(ZooKeeperOptions options, ZKClientConfig config) {
        StringJoiner problems = new StringJoiner("; ");
        try (ClientX509Util x509 = new ClientX509Util()) {
            SSLContext context;
            try {
                context = x509.createSSLContextAndOptionsFromConfig(config).getSSLContext();
            } catch (X509Exception.SSLContextException e) {
                return "the TLS key or trust store could not be read (options tlsKeyStore, tlsKeyStorePassword, tlsTrustStore,"
                        + " tlsTrustStorePassword): " + messages(e);
            }
            for (String hostPort : options.connectString().split(",")) {
                int colon = hostPort.lastIndexOf(':');
                String problem = handshake(context, hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)),
                        Math.max(MIN_WAIT_MS, options.connectionTimeoutMs()));
                if (problem != null) {
                    problems.add(hostPort + ": " + problem);
                }
            }
        }
        return problems.length() == 0 ? null : "TLS handshake refused by " + problems;
    }

    private static String handshake(SSLContext context, String host, int port, int timeoutMs) {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
            // as the Netty client does (ZooKeeper's default FIPS mode leaves host names to the JDK's endpoint identification)
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setEndpointIdentificationAlgorithm("HTTPS");
            socket.setSSLParameters(parameters);
            try {
                socket.connect(new InetSocketAddress(host, port), timeoutMs);
            } catch (IOException unreachable) {
                return null; // the connection timeout says it already
            }
            socket.setSoTimeout(timeoutMs);
            try {
                socket.startHandshake();
            } catch (SocketTimeoutException e) {
                return notTls("gave no answer to the TLS handshake within " + timeoutMs + " ms");
            } catch (IOException e) {
                // a plaintext port drops the ClientHello it cannot parse, as a TLS server that refuses us may close before
                // its alert is read: only asking in plaintext tells them apart
                return !causedBy(e, CertificateException.class) && plaintextZooKeeper(host, port, timeoutMs)
                        ? notTls("closed the connection during the TLS handshake and answers in plaintext") : refused(e, host);
            }
            try {
                // the server rejects a client certificate after the client's side of a TLS 1.3 handshake is done: a
                // refused client hears an alert, or (when the alert loses the race with the close) a reset or end of
                // stream; an accepted one hears nothing before it sends its connect request
                return socket.getInputStream().read() < 0 ? refusedByServer("it closed the connection after the handshake") : null;
            } catch (SocketTimeoutException accepted) {
                return null;
            } catch (IOException e) {
                return refused(e, host);
            }
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether the port answers the four-letter word {@code isro} in plain text ("rw", "ro", or that it is not whitelisted). */
    private static boolean plaintextZooKeeper(String host, int port, int timeoutMs) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMs);
            socket.setSoTimeout(timeoutMs);
            socket.getOutputStream().write("isro".getBytes(StandardCharsets.US_ASCII));
            byte[] answer = socket.getInputStream().readNBytes(2);
            return answer.length == 2 && Character.isLetter(answer[0]) && Character.isLetter(answer[1]);
        } catch (IOException e) {
            return false;
        }
    }

    private static String notTls(String what) {
        return "the server " + what + ": is this the servers' secureClientPort? (a plaintext clientPort does not speak TLS)";
    }

    private static String refused(IOException e, String host) {
        return causedBy(e, CertificateException.class)
                ? "the server's certificate is not trusted (option tlsTrustStore) or not issued for \"" + host + "\" (hostname"
                        + " verification): " + messages(e)
                : refusedByServer(messages(e));
    }

    private static String refusedByServer(String how) {
        return "the server refused this client's certificate (option tlsKeyStore: none, expired, or not issued by a CA in the server's"
                + " trust store): " + how;
    }

    private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    static String messages(Throwable t) {
        StringJoiner j = new StringJoiner(": ");
        String last = null;
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = String.valueOf(c.getMessage());
            if (!m.equals(last) && (last == null || !last.endsWith(m))) {
                j.add(m);
            }
            last = m;
        }
        return j.toString();
    }
}
