package dev.reliablestore.registry.zookeeper;

import org.apache.kerby.kerberos.kerb.KrbException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * ZooKeeper servers that demand authentication, for tests of other modules (the provider's TCK over
 * Kerberos and over mutual TLS): each starts its server (and KDC or CA) once and hands out the
 * registry options of a client identity, as an application would configure them.
 */
public final class SecureZooKeeperServers {

    private SecureZooKeeperServers() {
    }

    /**
     * Quorum TLS between servers (docs/zookeeper-backend.md, TLS): a CA named {@code caName}, one server
     * certificate of it for 127.0.0.1 and localhost, its key and trust stores and password file in
     * {@code dir}; the zoo.cfg lines of a server that uses them, as the docs give them (password paths).
     */
    public static List<String> quorumTls(Path dir, String caName) throws Exception {
        Files.createDirectories(dir);
        String password = "quorum-" + UUID.randomUUID();
        TestPki.Issued ca = TestPki.ca(caName);
        Path keyStore = TestPki.keyStore(dir.resolve("quorum.p12"), TestPki.peer(ca, "zookeeper", "localhost", "127.0.0.1"), password);
        Path trustStore = TestPki.trustStore(dir.resolve("quorum-trust.p12"), password, ca);
        Path passwordFile = Files.writeString(dir.resolve("quorum.pass"), password);
        return List.of("sslQuorum=true",
                "ssl.quorum.keyStore.location=" + keyStore,
                "ssl.quorum.keyStore.passwordPath=" + passwordFile,
                "ssl.quorum.trustStore.location=" + trustStore,
                "ssl.quorum.trustStore.passwordPath=" + passwordFile);
    }

    /** A KDC in this JVM and a server in its own JVM that closes every session not authenticated with SASL/GSSAPI. */
    public static final class Kerberos implements AutoCloseable {

        private final KerberosTestKdc kdc;

        private Kerberos(KerberosTestKdc kdc) {
            this.kdc = kdc;
        }

        public static Kerberos start(Path dir) throws Exception {
            KerberosTestKdc kdc = new KerberosTestKdc(dir, null);
            try {
                kdc.startServer();
                return new Kerberos(kdc);
            } catch (Exception | Error e) {
                kdc.close();
                throw e;
            }
        }

        public String connectString() {
            return kdc.connectString();
        }

        /** A new principal {@code name@EXAMPLE.COM} with its keytab: its options, with requireKerberos and its sasl ACL. */
        public Map<String, String> clientOptions(String name) throws Exception {
            Path keytab = kdc.principal(name);
            Map<String, String> m = new LinkedHashMap<>();
            m.put(ZooKeeperOptions.KERBEROS_PRINCIPAL.name(), name + "@" + KerberosTestKdc.REALM);
            m.put(ZooKeeperOptions.KERBEROS_KEYTAB.name(), keytab.toString());
            m.put(ZooKeeperOptions.REQUIRE_KERBEROS.name(), "true");
            m.put(ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_SASL);
            return m;
        }

        @Override
        public void close() throws KrbException {
            kdc.close();
        }
    }

    /** A test CA and a Netty server in its own JVM whose secure port demands a client certificate of that CA. */
    public static final class Tls implements AutoCloseable {

        private final Path dir;
        private final String password = "store-" + UUID.randomUUID();
        private final TestPki.Issued ca;
        private final int securePort;
        private final ZooKeeperServerProcess server;

        private Tls(Path dir) throws Exception {
            this.dir = dir;
            this.ca = TestPki.ca("ReliableStore test CA");
            Path home = Files.createDirectories(dir.resolve("server"));
            Path keyStore = TestPki.keyStore(home.resolve("server.p12"), TestPki.server(ca, "zookeeper", "localhost", "127.0.0.1"), password);
            Path trust = TestPki.trustStore(home.resolve("server-trust.p12"), password, ca);
            // two distinct ports; a port taken by another process between the choice and the child's bind
            // (the child exits with a BindException) is chosen again
            ZooKeeperServerProcess started = null;
            int secure = 0;
            for (int attempt = 1; started == null; attempt++) {
                int[] ports = ZooKeeperServerProcess.freePorts(2);
                secure = ports[0];
                try {
                    started = start(home, ports[1], secure, keyStore, trust);
                } catch (IllegalStateException e) {
                    if (attempt == 3 || !String.valueOf(e.getMessage()).contains("BindException")) {
                        throw e;
                    }
                }
            }
            this.securePort = secure;
            this.server = started;
        }

        private ZooKeeperServerProcess start(Path home, int port, int securePort, Path keyStore, Path trust) throws IOException {
            return new ZooKeeperServerProcess(home, port, List.of(
                    "secureClientPort=" + securePort,
                    "secureClientPortAddress=127.0.0.1",
                    "ssl.keyStore.location=" + keyStore,
                    "ssl.keyStore.password=" + password,
                    "ssl.trustStore.location=" + trust,
                    "ssl.trustStore.password=" + password,
                    "ssl.clientAuth=need",
                    "authProvider.x509=org.apache.zookeeper.server.auth.X509AuthenticationProvider"),
                    "-Dzookeeper.serverCnxnFactory=org.apache.zookeeper.server.NettyServerCnxnFactory");
        }

        public static Tls start(Path dir) throws Exception {
            return new Tls(dir);
        }

        /** The secure port. */
        public String connectString() {
            return "127.0.0.1:" + securePort;
        }

        /** A client certificate {@code CN=<name>} of the CA: its options, with requireTls, passwords as file references and its x509 ACL. */
        public Map<String, String> clientOptions(String name) throws Exception {
            Path passwordFile = dir.resolve("password");
            if (!Files.exists(passwordFile)) {
                Files.writeString(passwordFile, password);
                TestPki.trustStore(dir.resolve("client-trust.p12"), password, ca);
            }
            Path keyStore = TestPki.keyStore(dir.resolve(name + ".p12"), TestPki.client(ca, "CN=" + name + ",O=ReliableStore tests"), password);
            Map<String, String> m = new LinkedHashMap<>();
            m.put(ZooKeeperOptions.TLS.name(), "true");
            m.put(ZooKeeperOptions.REQUIRE_TLS.name(), "true");
            m.put(ZooKeeperOptions.TLS_KEY_STORE.name(), keyStore.toString());
            m.put(ZooKeeperOptions.TLS_KEY_STORE_PASSWORD.name(), "file:" + passwordFile);
            m.put(ZooKeeperOptions.TLS_TRUST_STORE.name(), dir.resolve("client-trust.p12").toString());
            m.put(ZooKeeperOptions.TLS_TRUST_STORE_PASSWORD.name(), "file:" + passwordFile);
            m.put(ZooKeeperOptions.ACL.name(), ZooKeeperOptions.ACL_X509);
            return m;
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
