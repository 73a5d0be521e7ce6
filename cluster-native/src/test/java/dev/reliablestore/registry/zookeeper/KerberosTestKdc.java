package dev.reliablestore.registry.zookeeper;

import org.apache.kerby.kerberos.kerb.KrbException;
import org.apache.kerby.kerberos.kerb.request.KrbIdentity;
import org.apache.kerby.kerberos.kerb.server.KdcConfigKey;
import org.apache.kerby.kerberos.kerb.server.SimpleKdcServer;
import org.apache.kerby.kerberos.kerb.type.KerberosTime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real KDC in this JVM (Apache Kerby, as ZooKeeper's own SASL tests use) and a ZooKeeper server in a
 * JVM of its own that requires every session to authenticate with SASL/GSSAPI. The server's JAAS
 * {@code Server} section and its krb5.conf are JVM-wide settings, which in this JVM would also be the
 * client's. Loopback ports chosen free at run time; {@link #close()} stops both.
 */
final class KerberosTestKdc implements AutoCloseable {

    static final String REALM = "EXAMPLE.COM";

    private final Path dir;
    private final SimpleKdcServer kdc;
    private ZooKeeperServerProcess server;

    /** {@code ticketLifetime}: the longest ticket the KDC issues (null: Kerby's default, a day). */
    KerberosTestKdc(Path dir, Duration ticketLifetime) throws Exception {
        this.dir = dir;
        Path kdcDir = Files.createDirectories(dir.resolve("kdc"));
        kdc = new SimpleKdcServer();
        kdc.setWorkDir(kdcDir.toFile());
        kdc.setKdcHost("localhost");
        kdc.setKdcRealm(REALM);
        kdc.setAllowUdp(false);
        kdc.setKdcTcpPort(ZooKeeperServerProcess.freePort());
        if (ticketLifetime != null) {
            kdc.getKdcConfig().setLong(KdcConfigKey.MINIMUM_TICKET_LIFETIME, 10L);
            kdc.getKdcConfig().setLong(KdcConfigKey.MAXIMUM_TICKET_LIFETIME, ticketLifetime.toSeconds());
            kdc.getKdcConfig().setLong(KdcConfigKey.MAXIMUM_RENEWABLE_LIFETIME, ticketLifetime.toSeconds());
        }
        kdc.init();
        kdc.start();
        // the client side of this JVM: read before Kerberos is first used here
        System.setProperty("java.security.krb5.conf", krb5Conf().toString());
    }

    Path krb5Conf() {
        return dir.resolve("kdc").resolve("krb5.conf");
    }

    /** A principal with a random key, exported to its own keytab. */
    Path principal(String name) throws KrbException {
        Path keytab = dir.resolve(name.replace('/', '_') + ".keytab");
        // not createAndExportPrincipals: that exports every principal of the KDC to the keytab
        kdc.createPrincipal(name + "@" + REALM);
        kdc.exportPrincipal(name + "@" + REALM, keytab.toFile());
        return keytab;
    }

    /** The principal's account expired an hour ago: the KDC refuses it tickets. */
    void expire(String name) throws KrbException {
        KrbIdentity identity = kdc.getIdentityService().getIdentity(name + "@" + REALM);
        identity.setExpireTime(new KerberosTime(System.currentTimeMillis() - 3_600_000L));
        kdc.getIdentityService().updateIdentity(identity);
    }

    /** Starts the ZooKeeper server (service principal zookeeper/localhost) requiring SASL from every session. */
    ZooKeeperServerProcess startServer() throws Exception {
        Path keytab = principal("zookeeper/localhost");
        Path home = Files.createDirectories(dir.resolve("server"));
        Path jaas = Files.writeString(home.resolve("server-jaas.conf"), "Server {\n"
                + "  com.sun.security.auth.module.Krb5LoginModule required\n"
                + "  useKeyTab=true\n  storeKey=true\n  useTicketCache=false\n  doNotPrompt=true\n"
                + "  keyTab=\"" + keytab + "\"\n"
                + "  principal=\"zookeeper/localhost@" + REALM + "\";\n};\n");
        server = new ZooKeeperServerProcess(home, ZooKeeperServerProcess.freePort(), List.of(
                "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
                "sessionRequireClientSASLAuth=true"),
                "-Djava.security.krb5.conf=" + krb5Conf(), "-Djava.security.auth.login.config=" + jaas);
        return server;
    }

    /** The connect string by name: the client asks for the ticket of zookeeper/&lt;this host&gt;. */
    String connectString() {
        return "localhost:" + server.connectString().substring(server.connectString().lastIndexOf(':') + 1);
    }

    String serverLog() throws IOException {
        return server == null ? "" : server.log();
    }

    @Override
    public void close() throws KrbException {
        try {
            if (server != null) {
                server.close();
            }
        } finally {
            kdc.stop();
        }
    }
}
