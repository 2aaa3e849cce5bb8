// "JOIN Name" adds the sender to the newsletter list; "STOP" takes them off
// by sorting the message for a person to handle.
if (keywords.startsWith(message.text, 'join')) {
  const name = message.text.trim().split(/\s+/).slice(1).join(' ');
  const known = contacts.find({ phone: message.sender });
  if (known.length) {
    lists.add('newsletter', { phone: message.sender });
    reply('Welcome back, ' + (known[0].name || 'friend') + '!');
  } else {
    contacts.create({ name: name, phone: message.sender, lists: ['newsletter'] });
    reply('Welcome, ' + (name || 'friend') + '! Send STOP to leave.');
  }
  state.incr('signups');
  move('Sign-ups');
} else if (keywords.contains(message.text, 'stop')) {
  move('Unsubscribe');
  assign({ group: 'support' });
}
