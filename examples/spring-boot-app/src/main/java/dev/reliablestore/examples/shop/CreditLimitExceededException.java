package dev.reliablestore.examples.shop;

/** An order would take the customer's invoices above its credit limit. */
public class CreditLimitExceededException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CreditLimitExceededException(String customerId, long invoiced, long limit) {
        super("customer " + customerId + " would owe " + invoiced + " cents, above its credit limit of " + limit);
    }
}
