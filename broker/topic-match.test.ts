import { describe, expect, it } from 'vitest';
import { bestMatchQos, topicMatches } from './topic-match.js';

// Expected values: the examples of MQTT 3.1.1 sections 4.7.1.2, 4.7.1.3 and 4.7.2.
describe('topicMatches', () => {
  it.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'sport/tennis', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['+/tennis/#', 'sport/tennis/x', true],
    ['ACCOUNTS', 'Accounts', false],
  ])('%s against %s: %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('[MQTT-4.7.2-1] keeps filters starting with a wildcard away from $ topics, and lets $ filters match them', () => {
    expect(topicMatches('#', '$SYS/broker/clients')).toBe(false);
    expect(topicMatches('+/monitor/Clients', '$SYS/monitor/Clients')).toBe(false);
    expect(topicMatches('+/+', '$TopicA/B')).toBe(false);
    expect(topicMatches('$SYS/#', '$SYS/monitor/Clients')).toBe(true);
    expect(topicMatches('$SYS/monitor/+', '$SYS/monitor/Clients')).toBe(true);
  });

  it('takes the best QoS among matching subscriptions, and null when none matches', () => {
    expect(bestMatchQos({ 'a/+': { qos: 0 }, 'a/#': { qos: 2 }, 'b/#': { qos: 1 } }, 'a/x')).toBe(2);
    expect(bestMatchQos({ '+/+': { qos: 1 } }, '$TopicA/B')).toBeNull();
    expect(bestMatchQos({ '+/+': { qos: 1 }, '$TopicA/B': { qos: 0 } }, '$TopicA/B')).toBe(0);
  });
});
