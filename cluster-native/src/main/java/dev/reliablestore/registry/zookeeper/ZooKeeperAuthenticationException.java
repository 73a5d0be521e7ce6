package dev.reliablestore.registry.zookeeper;

import dev.reliablestore.registry.RegistryException;

/**
 * The registry could not authenticate to ZooKeeper with Kerberos: the login of {@link #principal()}
 * from its keytab failed (wrong or missing key, expired or unknown principal, KDC unreachable), or the
 * servers require SASL authentication and closed the session of a client that did not pass it. Not a
 * transient condition: opening again with the same options fails the same way.
 */
public final class ZooKeeperAuthenticationException extends RegistryException {

    private static final long serialVersionUID = 1L;

    private final String principal;

    ZooKeeperAuthenticationException(String message, String principal, Throwable cause) {
        super(message, cause);
        this.principal = principal;
    }

    /** The configured {@code kerberosPrincipal}, or null when none was configured. */
    public String principal() {
        return principal;
    }
}
