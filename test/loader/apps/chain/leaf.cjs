module.exports = { n: 41 };
