package dev.reliablestore.codec;

/**
 * An entity could not be encoded, or stored bytes could not be decoded. Providers turn it into
 * the typed error of the operation (a refused save, or a {@link dev.reliablestore.api.DataIntegrityException}
 * naming where the bytes are); its message never quotes stored content.
 */
public class CodecException extends Exception {

    private static final long serialVersionUID = 1L;

    public CodecException(String message) {
        super(message);
    }

    public CodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
