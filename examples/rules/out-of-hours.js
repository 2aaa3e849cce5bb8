// Outside office hours (08:00-17:00 UTC, Monday to Friday) every SMS gets
// an automatic answer, once per sender and day. It runs early (position 5,
// out-of-hours.rule.json) and stops the rules after it when it answers, so
// the sender gets this answer and no other. (A poll's rule runs before it:
// a vote gets the poll's answer instead.)
const at = new Date(message.created_at);
const hour = at.getUTCHours();
const weekday = at.getUTCDay();  // 0 Sunday
const open = weekday >= 1 && weekday <= 5 && hour >= 8 && hour < 17;
if (!open && message.channel === 'sms') {
  const key = message.sender + ' ' + message.created_at.slice(0, 10);
  if (state.add('answered', key)) {
    reply('Thanks! We are closed now and will answer after 08:00.');
    stop();
  }
}
