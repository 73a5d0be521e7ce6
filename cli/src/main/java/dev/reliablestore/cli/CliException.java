package dev.reliablestore.cli;

/**
 * An expected failure of a command: its message is printed as one line ({@code error: …}) and the
 * process exits with {@link #exitCode()}.
 */
final class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final int exitCode;

    private CliException(int exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    static CliException failed(String message) {
        return new CliException(ExitCodes.FAILED, message, null);
    }

    static CliException failed(String message, Throwable cause) {
        return new CliException(ExitCodes.FAILED, message, cause);
    }

    static CliException usage(String message) {
        return new CliException(ExitCodes.USAGE, message, null);
    }

    static CliException check(String message) {
        return new CliException(ExitCodes.CHECK_FAILED, message, null);
    }

    static CliException notFound(String message) {
        return new CliException(ExitCodes.NOT_FOUND, message, null);
    }

    static CliException conflict(String message) {
        return new CliException(ExitCodes.CONFLICT, message, null);
    }

    int exitCode() {
        return exitCode;
    }
}
