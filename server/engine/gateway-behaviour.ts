interface Broker {
  publish(exchange: string, routingKey: string, content: object): void;
}

/**
 * What Baton's joining gateways (parallel, inclusive, complex) do each time they run: pass the
 * token on, as bpmn-elements' own gateway behaviour does. Which flows it takes is the activity's
 * outbound logic; when a gateway runs is its join's.
 */
export function PassTokenOn(this: { broker: Broker }, activity: { broker: Broker }) {
  this.broker = activity.broker;
}
PassTokenOn.prototype.execute = function execute(this: { broker: Broker }, message: { content: Record<string, unknown> }) {
  this.broker.publish('execution', 'execute.completed', { ...message.content });
};
