package dev.reliablestore.api;

/** A configuration is invalid: the message names the option, the value and the rule. */
public class ConfigurationException extends PersistenceException {

    private static final long serialVersionUID = 1L;

    public ConfigurationException(String message) {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
